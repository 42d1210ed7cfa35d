import { Worker } from 'node:worker_threads';
import type { ExecutionProvider } from '@lumen/inference';
import type { Volume } from '@lumen/volumes';
import type { CascadeConfig } from './cascade-config.js';
import type { CascadeOptions, CascadeProgress, CascadeResult } from './cascade.js';

/** The ONNX files the cascade thread runs, by model name (its sessions are opened once per file and kept). */
export type CascadeThreadModels = {
  models: Record<string, { file: string; provider: ExecutionProvider }>;
  /** ONNX Runtime intra-op threads per session (INFERENCE_THREADS). */
  threads: number;
};

/** A cascade to run, as sent to the thread. */
export type CascadeThreadJob = { kind: 'run'; job: number; volume: Volume; config: CascadeConfig; options: CascadeOptions } & CascadeThreadModels;

/** What the thread sends: progress reports of a job (answered by `id`), then its result or failure. */
export type FromCascadeThread =
  | { kind: 'progress'; job: number; id: number; args: Parameters<CascadeProgress> }
  | { kind: 'done'; job: number; result: CascadeResult }
  | { kind: 'failed'; job: number; message: string; stack?: string };

/** The answer to a progress report; `error` when the job is gone (canceled) or the database failed. */
export type ToCascadeThread = CascadeThreadJob | { kind: 'reply'; id: number; error?: string };

type Pending = { resolve: (result: CascadeResult) => void; reject: (error: unknown) => void; progress: CascadeProgress; progressError?: unknown };

/**
 * Runs runCascade on one long-lived worker thread that keeps its ONNX Runtime sessions.
 * onnxruntime-node runs a model synchronously on the calling thread (its `run` only defers to
 * setImmediate), and the cascade's kernels run for seconds without yielding: on the job's thread
 * that stalls pg-boss's job heartbeats, the fleet heartbeat and the database pool (a job then counts
 * as lost and is retried while it still runs). Only progress reports come back here, where the job
 * and its database live. Volumes and results are copied between threads (structured clone). Jobs
 * run one after another in the thread; if it dies, the jobs it held fail and the next run starts a
 * new thread.
 */
export class CascadeThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextJob = 0;

  constructor(private readonly script: URL = new URL('./cascade-thread.worker.js', import.meta.url)) {}

  run(volume: Volume, config: CascadeConfig, models: CascadeThreadModels, options: CascadeOptions, progress: CascadeProgress): Promise<CascadeResult> {
    const worker = this.worker ?? this.start();
    const job = this.nextJob++;
    return new Promise<CascadeResult>((resolve, reject) => {
      this.pending.set(job, { resolve, reject, progress });
      worker.postMessage({ kind: 'run', job, volume, config, options, ...models } satisfies ToCascadeThread);
    });
  }

  /** Stops the thread; jobs it still held fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(this.script);
    worker.unref(); // an idle thread must not keep the process alive
    worker.on('message', (message: FromCascadeThread) => this.receive(worker, message));
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const [job, pending] of this.pending) {
        this.pending.delete(job);
        pending.reject(pending.progressError ?? error);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the cascade thread exited (code ${code}) before it answered`)));
    this.worker = worker;
    return worker;
  }

  private receive(worker: Worker, message: FromCascadeThread): void {
    const pending = this.pending.get(message.job);
    if (!pending) return;
    switch (message.kind) {
      case 'progress':
        pending.progress(...message.args).then(
          () => worker.postMessage({ kind: 'reply', id: message.id } satisfies ToCascadeThread),
          (error: Error) => {
            // A failed report (the job was canceled) is the job's error: its type matters to the job runner.
            pending.progressError ??= error;
            worker.postMessage({ kind: 'reply', id: message.id, error: error.message } satisfies ToCascadeThread);
          },
        );
        break;
      case 'done':
        this.pending.delete(message.job);
        pending.resolve(message.result);
        break;
      case 'failed':
        this.pending.delete(message.job);
        pending.reject(pending.progressError ?? Object.assign(new Error(message.message), { stack: message.stack }));
        break;
    }
  }
}
