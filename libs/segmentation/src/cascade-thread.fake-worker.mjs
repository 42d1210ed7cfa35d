// A stand-in for cascade-thread.worker.js speaking the same protocol, for cascade-thread.spec.ts
// (unit tests run TypeScript sources, which a worker thread cannot load).
import { parentPort, threadId, workerData } from 'node:worker_threads';

const waiting = new Map();
let next = 0;
parentPort.on('message', (m) => {
  const call = waiting.get(m.id);
  waiting.delete(m.id);
  if (m.error !== undefined) call.reject(new Error(m.error));
  else call.resolve();
});
const progress = (...args) =>
  new Promise((resolve, reject) => {
    const id = next++;
    waiting.set(id, { resolve, reject });
    parentPort.postMessage({ kind: 'progress', id, args });
  });

const { volume, options, models, threads } = workerData;
if (options.behaviour === 'exit') process.exit(3);
try {
  await progress(0.1, 'stage1', 'stage 1');
  await progress(0.5, 'stage2', 'stage 2');
  const labels = Uint8Array.from(volume.data, (v) => v * 2);
  parentPort.postMessage({ kind: 'done', result: { labels, timingsMs: {}, stage2: null, threadId, models, threads } });
} catch (error) {
  parentPort.postMessage({ kind: 'failed', message: error.message, stack: error.stack });
}
