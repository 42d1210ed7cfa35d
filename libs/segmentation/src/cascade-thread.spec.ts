import { threadId } from 'node:worker_threads';
import type { Volume } from '@lumen/volumes';
import type { CascadeConfig } from './cascade-config.js';
import type { CascadeOptions } from './cascade.js';
import { type CascadeThreadModels, runCascadeOffThread } from './cascade-thread.js';

const FAKE = new URL('./cascade-thread.fake-worker.mjs', import.meta.url);
const volume = { data: Int16Array.from([1, 2, 3]), size: [3, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], componentType: 'int16' } as Volume;
const config = {} as CascadeConfig;
const models: CascadeThreadModels = { models: { coarse: { file: '/models/coarse/2/model.onnx', provider: 'cpu' } }, threads: 2 };
const options = (behaviour?: string) => ({ fast: false, organs: [1], behaviour }) as CascadeOptions;

describe('runCascadeOffThread', () => {
  it('runs on another thread with the models it is given, reporting progress to this one', async () => {
    const reports: string[] = [];
    const result = await runCascadeOffThread(volume, config, models, options(), async (fraction, step, text) => void reports.push(`${fraction} ${step} ${text} on ${threadId}`), FAKE);
    expect(reports).toEqual([`0.1 stage1 stage 1 on ${threadId}`, `0.5 stage2 stage 2 on ${threadId}`]);
    expect(result.labels).toEqual(Uint8Array.from([2, 4, 6]));
    const echoed = result as unknown as { threadId: number } & CascadeThreadModels;
    expect(echoed.threadId).not.toBe(threadId);
    expect({ models: echoed.models, threads: echoed.threads }).toEqual(models);
  });

  it('fails with the progress error itself when a report fails (a canceled job stays canceled)', async () => {
    class JobCanceled extends Error {}
    const canceled = new JobCanceled('job 1 was canceled');
    const reports: number[] = [];
    const run = runCascadeOffThread(volume, config, models, options(), async (fraction) => {
      reports.push(fraction);
      throw canceled;
    }, FAKE);
    await expect(run).rejects.toBe(canceled);
    expect(reports).toEqual([0.1]); // the thread stopped at the first failed report
  });

  it('fails with a clear error when the thread dies without answering', async () => {
    await expect(runCascadeOffThread(volume, config, models, options('exit'), async () => {}, FAKE)).rejects.toThrow('the cascade thread exited (code 3) before it answered');
  });
});
