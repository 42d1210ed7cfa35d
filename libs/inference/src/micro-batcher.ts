/**
 * Gathers concurrent requests into one inference call: a batch is sent when it holds
 * `maxBatch` items or `maxWaitMs` after its first item arrived, whichever comes first.
 * Each caller gets its own result (or the batch's error) back in order.
 */
export class MicroBatcher<I, O> {
  private pending: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: { maxBatch: number; maxWaitMs: number; run: (items: I[]) => Promise<O[]> },
  ) {
    if (options.maxBatch < 1) throw new Error('maxBatch must be at least 1');
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.options.maxBatch) this.flush();
      else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.options.maxWaitMs);
    });
  }

  /** Submits several items that must travel together as far as the batch size allows. */
  submitMany(items: I[]): Promise<O[]> {
    return Promise.all(items.map((item) => this.submit(item)));
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.pending.length) {
      const batch = this.pending.splice(0, this.options.maxBatch);
      this.options.run(batch.map((p) => p.item)).then(
        (outputs) => {
          if (outputs.length !== batch.length) {
            const error = new Error(`batch returned ${outputs.length} results for ${batch.length} items`);
            for (const p of batch) p.reject(error);
            return;
          }
          batch.forEach((p, i) => p.resolve(outputs[i]));
        },
        (error: unknown) => {
          for (const p of batch) p.reject(error);
        },
      );
      // Items that arrive while this batch runs start a new batch (and timer) of their own.
      if (this.pending.length < this.options.maxBatch) break;
    }
    if (this.pending.length && !this.timer) this.timer = setTimeout(() => this.flush(), this.options.maxWaitMs);
  }
}
