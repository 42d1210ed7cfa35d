// A stand-in for cascade-thread.worker.js speaking the same protocol, for cascade-thread.spec.ts
// (unit tests run TypeScript sources, which a worker thread cannot load). It "opens" each model
// file once per thread, as the real one opens its sessions, and reports how many it opened.
import { parentPort, threadId } from 'node:worker_threads';

const waiting = new Map();
const opened = new Set();
let next = 0;
let runs = 0;
const progress = (job, ...args) =>
  new Promise((resolve, reject) => {
    const id = next++;
    waiting.set(id, { resolve, reject });
    parentPort.postMessage({ kind: 'progress', job, id, args });
  });

parentPort.on('message', async (m) => {
  if (m.kind === 'reply') {
    const call = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) call.reject(new Error(m.error));
    else call.resolve();
    return;
  }
  if (m.options.behaviour === 'exit') process.exit(3);
  try {
    for (const { file } of Object.values(m.models)) opened.add(file);
    runs += 1;
    await progress(m.job, 0.1, 'stage1', 'stage 1');
    await progress(m.job, 0.5, 'stage2', 'stage 2');
    const labels = Uint8Array.from(m.volume.data, (v) => v * 2);
    parentPort.postMessage({ kind: 'done', job: m.job, result: { labels, timingsMs: {}, stage2: null, threadId, threads: m.threads, opened: opened.size, runs } });
  } catch (error) {
    parentPort.postMessage({ kind: 'failed', job: m.job, message: error.message, stack: error.stack });
  }
});
