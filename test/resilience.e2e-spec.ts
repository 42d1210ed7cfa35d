// Failure drills against real processes: a segmentation worker killed with SIGKILL in stage 2,
// PostgreSQL stopped and started under traffic, and SIGTERM while a job runs.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { SHUTDOWN_GRACE_MS } from '../libs/http/src/shutdown.js';
import { API_KEYS, API_READY_MS, KEYS, type LumenProcess, SHARED_DATA, client, createDatabase, queueRecords, spawnLumen, startApi, tempDir, waitFor } from './support/lumen.js';
import { startThrowawayPostgres } from './support/postgres.mjs';

type Job = { id: string; status: string; stage: string | null; attempts: number; result: unknown; error: unknown };
type Segmentation = { id: string; status: string; stage: string | null; results: Record<string, { voxels: number }> | null };

const CT = path.join(SHARED_DATA, 'ct', 'abdomen_ct_3mm.nii.gz');

async function jobOf(api: ReturnType<typeof client>, id: string): Promise<Job> {
  return (await (await api.get(`/jobs/${id}`)).json()) as Job;
}

async function waitForJob(api: ReturnType<typeof client>, id: string, statuses: string[], timeoutMs = 120_000): Promise<Job> {
  return waitFor(`job ${id} to reach ${statuses.join('|')}`, async () => {
    const job = await jobOf(api, id);
    return statuses.includes(job.status) ? job : undefined;
  }, timeoutMs);
}

/** True while something accepts TCP connections on the port. */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('resilience (real processes, real PostgreSQL)', () => {
  const processes: LumenProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
  });

  it('finishes every segmentation exactly once when its worker is killed in stage 2', async () => {
    const dataDir = tempDir();
    const databaseUrl = await createDatabase();
    const env = { DATABASE_URL: databaseUrl, DATA_DIR: dataDir, MODELS: 'ct-organs-coarse,ct-organs-fine', JOB_HEARTBEAT_SECONDS: '10', JOB_SUPERVISE_SECONDS: '1', API_KEYS };
    const api = await startApi({ ...env, WORKER_ENABLED: 'false' });
    processes.push(api);
    const lab = client(api.url, KEYS.segment);
    const first = spawnLumen('worker', env);
    processes.push(first);

    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const form = new FormData();
      form.append('image', new Blob([fs.readFileSync(CT)]), 'abdomen_ct_3mm.nii.gz');
      const response = await lab.postForm('/segmentations', form);
      expect(response.status).toBe(202);
      ids.push(((await response.json()) as Segmentation).id);
    }

    // Kill the worker as soon as a job reports a stage-2 tile (concurrency 1: one job at a time).
    const killed = await waitFor(
      'a job to reach stage 2',
      async () => {
        for (const id of ids) {
          const job = await jobOf(lab, id);
          if (job.status === 'running' && job.stage?.startsWith('stage 2')) return id;
        }
        return undefined;
      },
      300_000,
      100,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await jobOf(lab, killed)).status).toBe('running'); // nobody finished it

    const second = spawnLumen('worker', env);
    processes.push(second);
    // One deadline for both jobs (the second worker runs them one after the other).
    const jobs = await waitFor('both jobs to finish on the second worker', async () => {
      const all = await Promise.all(ids.map((id) => jobOf(lab, id)));
      return all.every((job) => ['succeeded', 'failed'].includes(job.status)) ? all : undefined;
    }, 400_000, 500);
    for (const [i, id] of ids.entries()) {
      const job = jobs[i];
      expect({ id, status: job.status }).toEqual({ id, status: 'succeeded' });
      expect(job.attempts).toBe(id === killed ? 2 : 1);
      const segmentation = (await (await lab.get(`/segmentations/${id}`)).json()) as Segmentation;
      expect(Object.keys(segmentation.results ?? {}).length).toBeGreaterThan(0);
      expect((await lab.get(`/segmentations/${id}/labels`)).status).toBe(200);
    }

    // Exactly once: one pg-boss job per segmentation, completed; one job row each; one output directory each.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const queued = await db.query<{ id: string; state: string; retry_count: number }>('SELECT id::text, state::text, retry_count FROM pgboss.job WHERE id = ANY($1::uuid[])', [ids]);
      // Completed, and retried exactly once for the killed job only.
      expect(queued.rows.map((r) => [r.id, r.state, r.retry_count]).sort()).toEqual(ids.map((id) => [id, 'completed', id === killed ? 1 : 0]).sort());
      const rows = await db.query<{ count: string }>('SELECT count(*) FROM job WHERE id = ANY($1::uuid[])', [ids]);
      expect(Number(rows.rows[0].count)).toBe(ids.length);
    } finally {
      await db.end();
    }
    expect(fs.readdirSync(path.join(dataDir, 'segmentations')).sort()).toEqual([...ids].sort());
    expect(await second.stop('SIGTERM')).toBe(0);
    await api.stop();
  }, API_READY_MS + 300_000 + 400_000 + 60_000); // start, reaching stage 2, both jobs, the rest

  it('answers 503 problem+json while PostgreSQL is down and recovers without a restart', async () => {
    // This test's own PostgreSQL, so that stopping it disturbs no other suite.
    const pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-restart-pg-'));
    const { server, url: pgUrl } = await startThrowawayPostgres({ dir: pgDir, password: 'lumen-test', persistent: true });
    try {
      const dataDir = tempDir();
      const api = await startApi({
        DATABASE_URL: pgUrl,
        DATA_DIR: dataDir,
        MODELS_DIR: path.join(dataDir, 'no-models'),
        JOB_SUPERVISE_SECONDS: '1',
        RATE_LIMIT_PER_MINUTE: '0',
      });
      processes.push(api);
      const admin = client(api.url, KEYS.admin);
      const before = ((await (await admin.post('/jobs/diagnostics', { durationMs: 100, steps: 2 })).json()) as Job).id;
      expect((await waitForJob(admin, before, ['succeeded', 'failed'], 30_000)).status).toBe('succeeded');

      // Traffic throughout: every answer must be a 200 or a clean 503, never a 500 or a dropped connection.
      const statuses = new Map<number, number>();
      let traffic = true;
      const loop = (async () => {
        while (traffic) {
          const response = await admin.get('/jobs?limit=5');
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();

      await server.stop();
      const down = await waitFor('requests to fail with 503', async () => {
        const response = await admin.get('/jobs?limit=5');
        return response.status === 503 ? response : undefined;
      }, 60_000);
      expect(down.headers.get('content-type')).toContain('application/problem+json');
      expect(down.headers.get('retry-after')).toBeTruthy();
      const problem = await down.json();
      expect(problem).toMatchObject({ status: 503, type: 'urn:lumen:problem:database-unavailable' });
      expect(JSON.stringify(problem)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|at \w+ \(/);
      const submitted = await admin.post('/jobs/diagnostics', { durationMs: 100, steps: 2 });
      expect(submitted.status).toBe(503);
      const ready = await fetch(`${api.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'down', checks: { database: { status: 'down' } } });
      expect((await fetch(`${api.url}/health/live`)).status).toBe(200);

      await server.start();
      await waitFor('readiness after PostgreSQL is back', async () => (await fetch(`${api.url}/health/ready`)).status === 200, 60_000);
      expect((await admin.get('/jobs?limit=5')).status).toBe(200);
      const after = await admin.post('/jobs/diagnostics', { durationMs: 100, steps: 2 });
      expect(after.status).toBe(202);
      const recovered = await waitForJob(admin, ((await after.json()) as Job).id, ['succeeded', 'failed'], 30_000);
      expect(recovered.status).toBe('succeeded');

      traffic = false;
      await loop;
      expect([...statuses.keys()].filter((s) => s !== 200 && s !== 503)).toEqual([]);
      expect(statuses.get(503)).toBeGreaterThan(0);
      expect(api.child.exitCode).toBeNull(); // the same process throughout
      expect(await api.stop('SIGTERM')).toBe(0);
    } finally {
      await server.stop().catch(() => undefined);
      fs.rmSync(pgDir, { recursive: true, force: true });
    }
  }, API_READY_MS + 30_000 + 60_000 + 60_000 + 30_000 + 60_000); // start, first job, 503, recovery, last job, PostgreSQL stops and starts

  it('on SIGTERM stops accepting connections, finishes the running job in that one attempt within the grace period and exits 0', async () => {
    const dataDir = tempDir();
    const databaseUrl = await createDatabase();
    const api = await startApi({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir, MODELS_DIR: path.join(dataDir, 'no-models') });
    processes.push(api);
    const port = Number(new URL(api.url).port);
    const admin = client(api.url, KEYS.admin);
    const { id } = (await (await admin.post('/jobs/diagnostics', { durationMs: 5000, steps: 20 })).json()) as Job;
    await waitForJob(admin, id, ['running'], 30_000);

    const signalled = Date.now();
    api.child.kill('SIGTERM');
    // While the job finishes, the process is alive but no longer accepts connections.
    await waitFor('the listener to close', async () => api.child.exitCode === null && !(await accepting(port)), 10_000, 50);
    expect(api.child.exitCode).toBeNull();
    // Exit 0 only comes from a shutdown that completed; past the grace period the process exits 1.
    expect(await api.exited).toBe(0);
    const exited = Date.now();
    expect(exited - signalled).toBeLessThan(SHUTDOWN_GRACE_MS);

    // The job finished before the process exited, in its first attempt: Lumen's row and the queue's agree.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ status: string; attempts: number; finished_at: Date }>('SELECT status::text, attempts, finished_at FROM job WHERE id = $1::uuid', [id]);
      expect(rows).toEqual([{ status: 'succeeded', attempts: 1, finished_at: expect.any(Date) }]);
      expect(rows[0].finished_at.getTime()).toBeGreaterThanOrEqual(signalled - 1000); // it was still running at the signal
      expect(rows[0].finished_at.getTime()).toBeLessThanOrEqual(exited + 1000);
    } finally {
      await db.end();
    }
    expect(await queueRecords(databaseUrl, id)).toEqual([{ state: 'completed', retryCount: 0 }]);
  }, API_READY_MS + 30_000 + 10_000 + SHUTDOWN_GRACE_MS + 30_000); // start, job running, listener, grace, the rest
});
