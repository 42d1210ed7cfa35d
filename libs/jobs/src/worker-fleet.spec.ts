import { jest } from '@jest/globals';
import type { LumenConfig } from '@lumen/config';
import type { JobQueueService } from './job-queue.service.js';
import { type FleetWorker, type TakeJobsInput, takesJobs } from './worker-fleet.js';
import { WorkerFleetService } from './worker-fleet.service.js';
import { WORKER_ID } from './worker-id.js';
import type { WorkersRepository } from './workers.repository.js';

const cuda: FleetWorker = { id: 'gpu-box-7', device: 'cuda', models: ['ct-organs-coarse@2'], kinds: ['segmentation', 'diagnostic'] };
const cpu: FleetWorker = { id: 'cpu-box-1', device: 'cpu', models: ['ct-organs-coarse@2'], kinds: ['segmentation', 'diagnostic'] };
const base: TakeJobsInput = { kind: 'segmentation', prefersCuda: true, self: cpu, live: [cpu], oldestQueuedSeconds: null, graceSeconds: 30 };

describe('takesJobs: segmentation prefers CUDA workers, CPU ones fall back', () => {
  it.each<[string, Partial<TakeJobsInput>, boolean]>([
    ['a CPU worker when no CUDA worker is alive', {}, true],
    ['a CPU worker while a CUDA worker is alive and nothing waits', { live: [cpu, cuda] }, false],
    ['a CPU worker while a CUDA worker is alive and a job has waited less than the grace', { live: [cpu, cuda], oldestQueuedSeconds: 29.9 }, false],
    ['a CPU worker once a job has waited the grace (the CUDA workers are busy)', { live: [cpu, cuda], oldestQueuedSeconds: 30 }, true],
    ['a CPU worker when the CUDA worker alive does not run this kind', { live: [cpu, { ...cuda, kinds: ['diagnostic'] }] }, true],
    ['a CUDA worker, always', { self: cuda, live: [cpu, cuda] }, true],
    ['any worker for a kind without a preference', { kind: 'diagnostic', prefersCuda: false, live: [cpu, cuda] }, true],
  ])('%s: %s', (_what, input, take) => {
    expect(takesJobs({ ...base, ...input }).take).toBe(take);
  });

  it('says why, for the log', () => {
    expect(takesJobs({ ...base, live: [cpu, cuda] }).reason).toBe('1 CUDA worker(s) alive (gpu-box-7); taking over after 30 s of waiting');
    expect(takesJobs(base).reason).toBe('no CUDA worker is alive');
  });
});

/** A fleet over a fake `worker` table whose live set the test sets, and a fake queue. */
function fleet(device: 'cpu' | 'cuda' = 'cpu') {
  const state = { others: [] as FleetWorker[], oldest: null as number | null, beats: [] as FleetWorker[] };
  const repository = {
    heartbeat: jest.fn(async (w: FleetWorker) => void state.beats.push(w)),
    live: jest.fn(async () => [...state.beats.slice(-1), ...state.others]),
    remove: jest.fn(async () => undefined),
    oldestQueuedSeconds: jest.fn(async () => state.oldest),
  };
  const queue = { stopWork: jest.fn(async () => undefined) };
  const service = new WorkerFleetService({ cpuFallbackSeconds: 30 } as LumenConfig, repository as unknown as WorkersRepository, queue as unknown as JobQueueService);
  const consume = { segmentation: jest.fn(async () => undefined), diagnostic: jest.fn(async () => undefined) };
  const kinds = [
    { kind: 'segmentation', prefersCuda: true, capability: { device, models: ['ct-organs-coarse@2', 'ct-organs-fine@2'] }, consume: consume.segmentation },
    { kind: 'diagnostic', prefersCuda: false, capability: { device: 'cpu' as const, models: [] }, consume: consume.diagnostic },
  ];
  return { state, repository, queue, service, consume, kinds };
}

describe('WorkerFleetService', () => {
  it('advertises its device, models and kinds with each heartbeat, and removes itself when it stops', async () => {
    const { service, kinds, state, repository } = fleet('cuda');
    await service.start(kinds);
    expect(state.beats).toEqual([{ id: WORKER_ID, device: 'cuda', models: ['ct-organs-coarse@2', 'ct-organs-fine@2'], kinds: ['segmentation', 'diagnostic'] }]);
    await service.tick();
    expect(state.beats).toHaveLength(2);
    await service.onModuleDestroy();
    expect(repository.remove).toHaveBeenCalledWith(WORKER_ID);
  });

  it('a CPU worker leaves segmentation to a live CUDA worker, takes it when that worker dies, and leaves it again when one is back', async () => {
    const { service, kinds, state, consume, queue } = fleet('cpu');
    state.others = [cuda];
    await service.start(kinds);
    expect(service.consumed).toEqual(['diagnostic']);
    expect(consume.segmentation).not.toHaveBeenCalled();

    state.others = []; // its heartbeat went stale
    await service.tick();
    expect(service.consumed).toEqual(['diagnostic', 'segmentation']);
    expect(consume.segmentation).toHaveBeenCalledTimes(1);

    await service.tick(); // no change: not consumed twice
    expect(consume.segmentation).toHaveBeenCalledTimes(1);

    state.others = [cuda];
    await service.tick();
    expect(queue.stopWork).toHaveBeenCalledWith('segmentation');
    expect(service.consumed).toEqual(['diagnostic']);
    await service.onModuleDestroy();
  });

  it('a CPU worker takes segmentation once a job has waited CPU_FALLBACK_SECONDS for the busy CUDA worker', async () => {
    const { service, kinds, state, consume } = fleet('cpu');
    state.others = [cuda];
    state.oldest = 5;
    await service.start(kinds);
    expect(consume.segmentation).not.toHaveBeenCalled();
    state.oldest = 31;
    await service.tick();
    expect(consume.segmentation).toHaveBeenCalledTimes(1);
    await service.onModuleDestroy();
  });

  it('a CUDA worker consumes everything, whoever else is alive, without asking how long jobs wait', async () => {
    const { service, kinds, state, repository } = fleet('cuda');
    state.others = [cpu, { ...cuda, id: 'gpu-box-8' }];
    await service.start(kinds);
    expect(service.consumed).toEqual(['diagnostic', 'segmentation']);
    expect(repository.oldestQueuedSeconds).not.toHaveBeenCalled();
    await service.onModuleDestroy();
  });
});
