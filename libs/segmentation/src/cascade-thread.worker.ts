// Entry of the cascade worker thread (see cascade-thread.ts): runs the jobs it is sent one after
// another with runCascade, on ONNX sessions opened once per model file and kept, and sends progress
// to the parent thread, which owns the jobs.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { type ExecutionProvider, sessionOptions } from '@lumen/inference';
import { runCascade } from './cascade.js';
import type { CascadeThreadJob, FromCascadeThread, ToCascadeThread } from './cascade-thread.js';

const port = parentPort!;
const waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
const sessions = new Map<string, Promise<ort.InferenceSession>>();
let nextReport = 0;
let queue: Promise<unknown> = Promise.resolve();

function session(file: string, provider: ExecutionProvider, threads: number): Promise<ort.InferenceSession> {
  const key = `${provider}:${threads}:${file}`;
  let opened = sessions.get(key);
  if (!opened) {
    opened = ort.InferenceSession.create(file, sessionOptions(provider, threads));
    opened.catch(() => sessions.delete(key)); // a failed open is retried by the next job
    sessions.set(key, opened);
  }
  return opened;
}

async function run({ job, volume, config, options, models, threads }: CascadeThreadJob) {
  return runCascade(
    volume,
    config,
    async (model, input, shape) => {
      const spec = models[model];
      if (!spec) throw new Error(`the cascade thread was given no file for model ${model}`);
      const s = await session(spec.file, spec.provider, threads);
      return (await s.run({ image: new ort.Tensor('float32', input, [1, 1, ...shape]) })).logits.data as Float32Array;
    },
    options,
    (...args) =>
      new Promise<void>((resolve, reject) => {
        const id = nextReport++;
        waiting.set(id, { resolve, reject });
        port.postMessage({ kind: 'progress', job, id, args } satisfies FromCascadeThread);
      }),
  );
}

port.on('message', (message: ToCascadeThread) => {
  if (message.kind === 'reply') {
    const call = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) call?.reject(new Error(message.error));
    else call?.resolve();
    return;
  }
  // One job at a time: the cascade's memory is sized for one scan.
  queue = queue.then(() =>
    run(message).then(
      (result) => port.postMessage({ kind: 'done', job: message.job, result } satisfies FromCascadeThread),
      (error: Error) => port.postMessage({ kind: 'failed', job: message.job, message: error.message, stack: error.stack } satisfies FromCascadeThread),
    ),
  );
});
