// Entry of the cascade worker thread (see cascade-thread.ts): opens the stages' ONNX sessions,
// runs runCascade, and sends progress to the parent thread, which owns the job.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { runCascade } from './cascade.js';
import type { CascadeThreadData, FromCascadeThread, ToCascadeThread } from './cascade-thread.js';

const port = parentPort!;
const waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
let next = 0;

port.on('message', (message: ToCascadeThread) => {
  const call = waiting.get(message.id);
  if (!call) return;
  waiting.delete(message.id);
  if (message.error !== undefined) call.reject(new Error(message.error));
  else call.resolve();
});

async function main({ volume, config, options, models, threads }: CascadeThreadData) {
  const sessions = new Map<string, ort.InferenceSession>();
  try {
    for (const [name, { file, provider }] of Object.entries(models)) {
      sessions.set(name, await ort.InferenceSession.create(file, { executionProviders: [provider], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' }));
    }
    return await runCascade(
      volume,
      config,
      async (model, input, shape) => {
        const session = sessions.get(model);
        if (!session) throw new Error(`the cascade thread has no session for model ${model}`);
        return (await session.run({ image: new ort.Tensor('float32', input, [1, 1, ...shape]) })).logits.data as Float32Array;
      },
      options,
      (...args) =>
        new Promise<void>((resolve, reject) => {
          const id = next++;
          waiting.set(id, { resolve, reject });
          port.postMessage({ kind: 'progress', id, args } satisfies FromCascadeThread);
        }),
    );
  } finally {
    for (const session of sessions.values()) await session.release().catch(() => undefined);
  }
}

main(workerData as CascadeThreadData).then(
  (result) => port.postMessage({ kind: 'done', result } satisfies FromCascadeThread),
  (error: Error) => port.postMessage({ kind: 'failed', message: error.message, stack: error.stack } satisfies FromCascadeThread),
);
