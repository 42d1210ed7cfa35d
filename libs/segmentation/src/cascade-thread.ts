import { Worker } from 'node:worker_threads';
import type { Volume } from '@lumen/volumes';
import type { CascadeConfig } from './cascade-config.js';
import type { CascadeOptions, CascadeProgress, CascadeResult } from './cascade.js';

/** The ONNX files the cascade thread opens its own sessions on, by model name. */
export type CascadeThreadModels = {
  models: Record<string, { file: string; provider: 'cpu' | 'cuda' }>;
  /** ONNX Runtime intra-op threads per session (INFERENCE_THREADS). */
  threads: number;
};

/** What the cascade thread sends: progress reports (answered by id), then its result or failure. */
export type FromCascadeThread =
  | { kind: 'progress'; id: number; args: Parameters<CascadeProgress> }
  | { kind: 'done'; result: CascadeResult }
  | { kind: 'failed'; message: string; stack?: string };

/** The answer to a progress report; `error` when the job is gone (canceled) or the database failed. */
export type ToCascadeThread = { kind: 'reply'; id: number; error?: string };

export type CascadeThreadData = { volume: Volume; config: CascadeConfig; options: CascadeOptions } & CascadeThreadModels;

/**
 * runCascade on a worker thread with its own ONNX Runtime sessions. onnxruntime-node runs a model
 * synchronously on the calling thread (its `run` only defers to setImmediate), and the cascade's
 * kernels run for seconds without yielding: on the job's thread that stalls pg-boss's job
 * heartbeats, the fleet heartbeat and the database pool (a job then counts as lost and is retried
 * while it still runs). Only progress reports come back here, where the job and its database live.
 * The volume and the result are copied between threads (structured clone).
 */
export function runCascadeOffThread(
  volume: Volume,
  config: CascadeConfig,
  models: CascadeThreadModels,
  options: CascadeOptions,
  progress: CascadeProgress,
  script: URL = new URL('./cascade-thread.worker.js', import.meta.url),
): Promise<CascadeResult> {
  const data: CascadeThreadData = { volume, config, options, ...models };
  const worker = new Worker(script, { workerData: data });
  // A failed progress report (the job was canceled) is the job's error: its type matters to the job runner.
  let progressError: unknown;
  return new Promise<CascadeResult>((resolve, reject) => {
    let settled = false;
    const settle = (error: unknown, result?: CascadeResult) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      if (error) reject(error);
      else resolve(result!);
    };
    worker.on('message', (message: FromCascadeThread) => {
      switch (message.kind) {
        case 'progress':
          progress(...message.args).then(
            () => worker.postMessage({ kind: 'reply', id: message.id } satisfies ToCascadeThread),
            (error: Error) => {
              progressError ??= error;
              worker.postMessage({ kind: 'reply', id: message.id, error: error.message } satisfies ToCascadeThread);
            },
          );
          break;
        case 'done':
          settle(null, message.result);
          break;
        case 'failed':
          settle(progressError ?? Object.assign(new Error(message.message), { stack: message.stack }));
          break;
      }
    });
    worker.on('error', (error) => settle(progressError ?? error));
    worker.on('exit', (code) => settle(new Error(`the cascade thread exited (code ${code}) before it answered`)));
  });
}
