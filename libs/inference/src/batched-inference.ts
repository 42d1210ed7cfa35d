import { Tensor } from 'onnxruntime-node';
import type { ModelCard } from './model-card.js';
import { MicroBatcher } from './micro-batcher.js';

/** Named tensors: a model's feeds or its outputs. */
export type TensorMap = Record<string, Tensor>;

/** Most rows (along the batch axis) one batched run takes. */
export const BATCH_MAX_ROWS = 4096;

/**
 * Input bytes past which a run takes no further request: bounds one run's memory when rows are
 * large (images) while small rows (hyperedge candidates) still fill BATCH_MAX_ROWS. A single
 * request larger than this runs alone.
 */
export const BATCH_MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** How a request joins the shared queue. */
export type BatchOptions = {
  /** The most rows of any run this request joins (default BATCH_MAX_ROWS): a caller that gains nothing from bigger runs keeps them small. */
  maxRows?: number;
};

type NumericData = Exclude<Tensor['data'], string[]>;
type NumericArrayConstructor = { new (length: number): NumericData };

/**
 * The named axis every input and output of a model starts with ("batch"), or null when they do
 * not all share one: only then can requests be stacked along axis 0 and the outputs split back.
 */
export function batchAxisOf(card: Pick<ModelCard, 'inputs' | 'outputs'>): string | null {
  const first = [...card.inputs, ...card.outputs].map((spec) => spec.shape[0]);
  return first.length && typeof first[0] === 'string' && first.every((axis) => axis === first[0]) ? first[0] : null;
}

/** Rows of a tensor along axis 0. */
function rowsOf(tensor: Tensor): number {
  return tensor.dims[0] ?? 1;
}

/** Stacks tensors of the same type and trailing dims along axis 0 (one copy). */
export function concatRows(tensors: readonly Tensor[]): Tensor {
  const [first] = tensors;
  if (tensors.length === 1) return first;
  const total = tensors.reduce((sum, t) => sum + t.data.length, 0);
  const data = new ((first.data as NumericData).constructor as NumericArrayConstructor)(total);
  let offset = 0;
  for (const tensor of tensors) {
    (data as Float32Array).set(tensor.data as Float32Array, offset);
    offset += tensor.data.length;
  }
  return new Tensor(first.type as 'float32', data as Float32Array, [tensors.reduce((sum, t) => sum + rowsOf(t), 0), ...first.dims.slice(1)]);
}

/** Rows start..start+count of a tensor, as a view on its data (no copy). */
export function sliceRows(tensor: Tensor, start: number, count: number): Tensor {
  const perRow = tensor.dims.slice(1).reduce((a, b) => a * b, 1);
  const data = (tensor.data as Float32Array).subarray(start * perRow, (start + count) * perRow);
  return new Tensor(tensor.type as 'float32', data, [count, ...tensor.dims.slice(1)]);
}

/** Requests that can share a run: the same input names, types and trailing dims. */
function stackKey(feeds: TensorMap): string {
  return Object.keys(feeds)
    .sort()
    .map((name) => `${name}:${feeds[name].type}:${feeds[name].dims.slice(1).join('x')}`)
    .join('|');
}

function inputBytes(feeds: TensorMap): number {
  return Object.values(feeds).reduce((sum, t) => sum + (t.data as NumericData).byteLength, 0);
}

type Settled = { outputs: TensorMap } | { error: unknown };
type Queued = { feeds: TensorMap; maxRows: number };

/**
 * One model's shared queue: every caller (the domain routes, the Open Inference Protocol) submits
 * its request's tensors, batch axis first; requests arriving within the batching window that
 * have the same trailing shape are stacked into one ONNX Runtime run (at most BATCH_MAX_ROWS
 * rows and about BATCH_MAX_INPUT_BYTES of input), and each caller gets its own rows of every
 * output back. When a run of several requests fails, each is run again alone, so a request
 * whose values the model rejects (an index out of range) fails by itself and not its neighbours.
 */
export class BatchedModel {
  private readonly batcher: MicroBatcher<Queued, Settled>;

  constructor(
    private readonly run: (feeds: TensorMap) => Promise<TensorMap>,
    maxWaitMs: number,
  ) {
    this.batcher = new MicroBatcher({ maxBatch: BATCH_MAX_ROWS, maxWaitMs, run: (items) => this.runAll(items) });
  }

  async infer(feeds: TensorMap, options: BatchOptions = {}): Promise<TensorMap> {
    const settled = await this.batcher.submit({ feeds, maxRows: Math.min(BATCH_MAX_ROWS, options.maxRows ?? BATCH_MAX_ROWS) });
    if ('error' in settled) throw settled.error;
    return settled.outputs;
  }

  private async runAll(queued: Queued[]): Promise<Settled[]> {
    const items = queued.map((q) => q.feeds);
    const results = new Array<Settled>(items.length);
    const groups = new Map<string, number[]>();
    items.forEach((feeds, i) => {
      const key = stackKey(feeds);
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const runs: number[][] = [];
    for (const members of groups.values()) {
      let current: number[] = [];
      let rows = 0;
      let bytes = 0;
      let maxRows = BATCH_MAX_ROWS;
      for (const i of members) {
        const itemRows = rowsOf(Object.values(items[i])[0]);
        const itemBytes = inputBytes(items[i]);
        const limit = Math.min(maxRows, queued[i].maxRows);
        if (current.length && (rows + itemRows > limit || bytes + itemBytes > BATCH_MAX_INPUT_BYTES)) {
          runs.push(current);
          current = [];
          rows = 0;
          bytes = 0;
          maxRows = BATCH_MAX_ROWS;
        }
        current.push(i);
        rows += itemRows;
        bytes += itemBytes;
        maxRows = Math.min(maxRows, queued[i].maxRows);
      }
      runs.push(current);
    }
    await Promise.all(runs.map((members) => this.runStacked(items, members, results)));
    return results;
  }

  private async runStacked(items: TensorMap[], members: number[], results: Settled[]): Promise<void> {
    try {
      const names = Object.keys(items[members[0]]);
      const stacked = Object.fromEntries(names.map((name) => [name, concatRows(members.map((i) => items[i][name]))]));
      const outputs = await this.run(stacked);
      const total = members.reduce((sum, i) => sum + rowsOf(Object.values(items[i])[0]), 0);
      for (const [name, tensor] of Object.entries(outputs)) {
        if (rowsOf(tensor) !== total) throw new Error(`output ${name} has ${rowsOf(tensor)} rows for ${total} input rows: not batched along axis 0`);
      }
      let start = 0;
      for (const i of members) {
        const rows = rowsOf(Object.values(items[i])[0]);
        results[i] = { outputs: Object.fromEntries(Object.entries(outputs).map(([name, tensor]) => [name, sliceRows(tensor, start, rows)])) };
        start += rows;
      }
    } catch (error) {
      if (members.length === 1) results[members[0]] = { error };
      else await Promise.all(members.map((i) => this.runStacked(items, [i], results)));
    }
  }
}
