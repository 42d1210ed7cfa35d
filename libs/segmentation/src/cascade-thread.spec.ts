import { threadId } from 'node:worker_threads';
import type { Volume } from '@lumen/volumes';
import type { CascadeConfig } from './cascade-config.js';
import type { CascadeOptions } from './cascade.js';
import { CascadeThread, type CascadeThreadModels } from './cascade-thread.js';

const FAKE = new URL('./cascade-thread.fake-worker.mjs', import.meta.url);
const volume = { data: Int16Array.from([1, 2, 3]), size: [3, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], componentType: 'int16' } as Volume;
const config = {} as CascadeConfig;
const models: CascadeThreadModels = { models: { coarse: { file: '/models/coarse/2/model.onnx', provider: 'cpu' }, fine: { file: '/models/fine/2/model.onnx', provider: 'cpu' } }, threads: 2 };
const options = (behaviour?: string) => ({ fast: false, organs: [1], behaviour }) as CascadeOptions;
type Echo = { threadId: number; threads: number; opened: number; runs: number };

describe('CascadeThread', () => {
  let thread: CascadeThread;
  beforeEach(() => (thread = new CascadeThread(FAKE)));
  afterEach(() => thread.close());

  it('runs each job on one other thread, which keeps what it opened, reporting progress to this one', async () => {
    const reports: string[] = [];
    const first = await thread.run(volume, config, models, options(), async (fraction, step, text) => void reports.push(`${fraction} ${step} ${text} on ${threadId}`));
    const second = await thread.run(volume, config, models, options(), async () => {});
    expect(reports).toEqual([`0.1 stage1 stage 1 on ${threadId}`, `0.5 stage2 stage 2 on ${threadId}`]);
    expect(first.labels).toEqual(Uint8Array.from([2, 4, 6]));
    const [a, b] = [first, second] as unknown as Echo[];
    expect(a.threadId).not.toBe(threadId);
    expect(b.threadId).toBe(a.threadId);
    expect([a.runs, b.runs, b.opened, b.threads]).toEqual([1, 2, 2, 2]); // two model files opened once, for two jobs
  });

  it('fails a job with the progress error itself when a report fails (a canceled job stays canceled), and runs the next', async () => {
    class JobCanceled extends Error {}
    const canceled = new JobCanceled('job 1 was canceled');
    const reports: number[] = [];
    const run = thread.run(volume, config, models, options(), async (fraction) => {
      reports.push(fraction);
      throw canceled;
    });
    await expect(run).rejects.toBe(canceled);
    expect(reports).toEqual([0.1]); // the job stopped at its first failed report
    expect((await thread.run(volume, config, models, options(), async () => {})).labels).toEqual(Uint8Array.from([2, 4, 6]));
  });

  it('fails the jobs a dying thread held with a clear error, and starts a new thread for the next job', async () => {
    const before = (await thread.run(volume, config, models, options(), async () => {})) as unknown as Echo;
    await expect(thread.run(volume, config, models, options('exit'), async () => {})).rejects.toThrow('the cascade thread exited (code 3) before it answered');
    const after = (await thread.run(volume, config, models, options(), async () => {})) as unknown as Echo;
    expect(after.threadId).not.toBe(before.threadId);
    expect(after.runs).toBe(1);
  });
});
