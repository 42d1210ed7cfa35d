/**
 * How long the job's thread stops answering while a segmentation runs: the event loop's longest
 * delay (perf_hooks.monitorEventLoopDelay) during the cascade on the job's own thread (runCascade)
 * against the cascade on the worker's cascade thread (CascadeThread, what the worker serves), same volume,
 * same models (the cascade thread opens its own sessions once and keeps them, as served), one process. A stalled loop delays pg-boss's job heartbeats and the fleet heartbeat.
 *
 *   npm run build && node dist/bench/segmentation/event-loop.js [volume.nii.gz]
 * Default volume: the shared real CT (../shared/data/ct/abdomen_ct_3mm.nii.gz).
 */
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CascadeThread, runCascade } from '@lumen/segmentation';
import { readVolume } from '@lumen/volumes';
import { ROOT } from '../support.js';
import { servedCascade } from './served-cascade.js';

const file = process.argv[2] ?? path.resolve(ROOT, '..', 'shared', 'data', 'ct', 'abdomen_ct_3mm.nii.gz');
const { config, infer, files } = await servedCascade();
const volume = await readVolume(file, 1e9);

const report: Record<string, unknown> = { volume: path.basename(file), size: volume.size, machine: `${os.cpus()[0].model} x${os.cpus().length}`, load: os.loadavg()[0].toFixed(1) };
const threadModels = { models: files, threads: 0 };
const cascadeThread = new CascadeThread();
const runs = {
  'job thread': () => runCascade(volume, config, infer, { fast: false, organs: [1, 2, 3] }, async () => {}),
  'worker thread': () => cascadeThread.run(volume, config, threadModels, { fast: false, organs: [1, 2, 3] }, async () => {}),
};
for (const [name, run] of Object.entries(runs)) {
  for (let round = 0; round < 2; round++) {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    await run();
    delay.disable();
    // Round 0 warms the models up; round 1 is reported.
    if (round === 1) report[name] = { seconds: Number(((performance.now() - started) / 1000).toFixed(2)), maxDelayMs: Math.round(delay.max / 1e6), p99DelayMs: Math.round(delay.percentile(99) / 1e6) };
  }
}
console.log(JSON.stringify(report, null, 1));
await cascadeThread.close();
