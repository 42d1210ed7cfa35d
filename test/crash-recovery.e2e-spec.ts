import path from 'node:path';
import { API_KEYS, API_READY_MS, KEYS, type LumenProcess, client, createDatabase, queueRecords, spawnLumen, startApi, tempDir, waitFor } from './support/lumen.js';

type Job = { id: string; status: string; attempts: number; result: { pid: number; attempt: number } | null };

describe('crash recovery: a worker killed with SIGKILL', () => {
  const processes: LumenProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
  });

  it('leaves its job to the next worker, which completes it exactly once', async () => {
    const databaseUrl = await createDatabase();
    const dataDir = tempDir();
    const env = {
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      MODELS_DIR: path.join(dataDir, 'no-models'),
      JOB_HEARTBEAT_SECONDS: '10',
      JOB_SUPERVISE_SECONDS: '1',
      API_KEYS,
    };
    const api = await startApi({ ...env, WORKER_ENABLED: 'false' });
    processes.push(api);
    const admin = client(api.url, KEYS.admin);

    const first = spawnLumen('worker', env);
    processes.push(first);
    const { id } = (await (await admin.post('/jobs/diagnostics', { durationMs: 6000, steps: 30 })).json()) as Job;
    await waitFor('the first worker to start the job', async () => ((await (await admin.get(`/jobs/${id}`)).json()) as Job).status === 'running', 60_000);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = spawnLumen('worker', env);
    processes.push(second);
    const done = await waitFor(
      'the job to finish on the second worker',
      async () => {
        const job = (await (await admin.get(`/jobs/${id}`)).json()) as Job;
        return ['succeeded', 'failed'].includes(job.status) ? job : undefined;
      },
      90_000,
    );
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toBe(2);
    expect(done.result).toMatchObject({ pid: second.child.pid, attempt: 2 });

    // Exactly once, as the queue itself records it: one pg-boss job with this id, completed
    // after one retry (attempt 2); and both records stay so.
    expect(await queueRecords(databaseUrl, id)).toEqual([{ state: 'completed', retryCount: 1 }]);
    await new Promise((r) => setTimeout(r, 3000));
    const again = (await (await admin.get(`/jobs/${id}`)).json()) as Job;
    expect(again).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(await queueRecords(databaseUrl, id)).toEqual([{ state: 'completed', retryCount: 1 }]);
    expect(await second.stop('SIGTERM')).toBe(0);
  }, API_READY_MS + 60_000 + 90_000 + 30_000); // start, first worker's pick-up, second worker's run, the rest
});
