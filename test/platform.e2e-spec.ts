import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { type LumenApi, type Schemas, lumenApi, ok, problem } from './support/api.js';
import { API_READY_MS, KEYS, ROOT, type LumenProcess, client, createDatabase, startApi, tempDir, waitFor } from './support/lumen.js';

type Job = Schemas['JobDto'];

/** Diagnostic jobs here last at most a second; 30 s covers the queue's polling on a busy machine. */
async function waitForJob(api: LumenApi, id: string, statuses: Job['status'][], timeoutMs = 30_000): Promise<Job> {
  return waitFor(`job ${id} to reach ${statuses.join('|')}`, async () => {
    const job = await ok(api.GET('/jobs/{id}', { params: { path: { id } } }));
    return statuses.includes(job.status) ? job : undefined;
  }, timeoutMs);
}

describe('platform (real API process, real PostgreSQL)', () => {
  let databaseUrl: string;
  let dataDir: string;
  let api: LumenProcess;

  beforeAll(async () => {
    databaseUrl = await createDatabase();
    dataDir = tempDir();
    // No models: the platform is tested on its own; model serving has its own suites.
    api = await startApi({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir, MODELS_DIR: path.join(dataDir, 'no-models') });
  }, API_READY_MS + 30_000);

  afterAll(async () => {
    await api?.stop();
  });

  it('answers liveness and readiness without a key', async () => {
    await ok(lumenApi(api.url).GET('/health/live'), 200);
    expect(await ok(lumenApi(api.url).GET('/health/ready'), 200)).toMatchObject({ status: 'up', checks: { database: { status: 'up' } } });
  });

  it('publishes an OpenAPI document listing the platform routes', async () => {
    const spec = await (await fetch(`${api.url}/docs/openapi.json`)).json();
    for (const route of ['/jobs/{id}', '/jobs', '/jobs/{id}/cancel', '/models', '/models/{name}', '/health/ready', '/metrics']) {
      expect(spec.paths).toHaveProperty([route]);
    }
    expect(spec.paths['/jobs/{id}'].get.operationId).toBe('getJob');
    expect(spec.components.schemas.JobStatus.enum).toEqual(['queued', 'running', 'succeeded', 'failed', 'canceled']);
    expect(spec.components.schemas.JobStage.enum).toEqual(expect.arrayContaining(['queued', 'reading', 'stage1', 'candidate-region', 'stage2', 'post-processing', 'writing', 'done']));
    expect(spec.components.schemas.JobDto.properties.stageCode.allOf).toEqual([{ $ref: '#/components/schemas/JobStage' }]);
    expect((await fetch(`${api.url}/docs`)).status).toBe(200);
  });

  it('rejects missing, unknown and under-scoped keys with problem+json', async () => {
    await problem(lumenApi(api.url).GET('/jobs'), 401, 'missing-api-key');
    await problem(lumenApi(api.url, 'not-a-key').GET('/jobs'), 401, 'unknown-api-key');
    const forbidden = await problem(lumenApi(api.url, KEYS.search).POST('/jobs/diagnostics', { body: { durationMs: 10 } }), 403, 'missing-scope');
    expect(forbidden.detail).toContain('admin');
    await problem(lumenApi(api.url, KEYS.search).GET('/metrics'), 403);
  });

  it('validates bodies and rejects unknown fields', async () => {
    const admin = client(api.url, KEYS.admin);
    const response = await admin.post('/jobs/diagnostics', { durationMs: -1, color: 'red' });
    expect(response.status).toBe(400);
    const problem = await response.json();
    expect(problem.errors.map((e: { field: string }) => e.field).sort()).toEqual(['color', 'durationMs']);
    const badJson = await fetch(`${api.url}/jobs/diagnostics`, { method: 'POST', headers: { 'x-api-key': KEYS.admin, 'content-type': 'application/json' }, body: '{oops' });
    expect(badJson.status).toBe(400);
    expect(badJson.headers.get('content-type')).toContain('application/problem+json');
    expect((await admin.get('/jobs/not-a-uuid')).status).toBe(400);
    expect((await admin.get('/jobs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('runs a job to success with progress, lists it and hides it from other keys', async () => {
    const admin = lumenApi(api.url, KEYS.admin);
    const { id, stageCode } = await ok(admin.POST('/jobs/diagnostics', { body: { durationMs: 600, steps: 3 } }), 202);
    expect(stageCode).toBe('queued');
    const running = await waitForJob(admin, id, ['running', 'succeeded']);
    if (running.status === 'running' && running.progress > 0) expect(running).toMatchObject({ stageCode: 'running', stage: expect.stringMatching(/^step \d\/3$/) });
    const done = await waitForJob(admin, id, ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'succeeded', progress: 1, attempts: 1, owner: 'ops', stageCode: 'done', stage: 'done' });
    const page = await ok(admin.GET('/jobs', { params: { query: { kind: 'diagnostic', limit: 1 } } }));
    expect(page.items[0].id).toBe(id);
    await problem(lumenApi(api.url, KEYS.search).GET('/jobs/{id}', { params: { path: { id } } }), 404, 'job-not-found');
    const metrics = await ok(admin.GET('/metrics', { parseAs: 'text' }));
    expect(metrics).toContain('lumen_job_duration_seconds_count{kind="diagnostic",outcome="succeeded"}');
    expect(metrics).toContain('lumen_http_request_duration_seconds');
    expect(metrics).toContain('lumen_queue_depth{kind="diagnostic"}');
  });

  it('paginates with a cursor', async () => {
    const admin = lumenApi(api.url, KEYS.admin);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await ok(admin.POST('/jobs/diagnostics', { body: { durationMs: 0, steps: 1 } }))).id);
    const first = await ok(admin.GET('/jobs', { params: { query: { limit: 2 } } }));
    expect(first.items).toHaveLength(2);
    const second = await ok(admin.GET('/jobs', { params: { query: { limit: 2, cursor: first.nextCursor! } } }));
    const seen = [...first.items, ...second.items].map((j) => j.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 3)).toEqual([...ids].reverse());
  });

  it('cancels a running job and reports a permanent failure', async () => {
    const admin = lumenApi(api.url, KEYS.admin);
    const { id } = await ok(admin.POST('/jobs/diagnostics', { body: { durationMs: 20_000, steps: 100 } }));
    await waitForJob(admin, id, ['running']);
    const canceled = await ok(admin.POST('/jobs/{id}/cancel', { params: { path: { id } } }), 200);
    expect(canceled.status).toBe('canceled');
    await new Promise((r) => setTimeout(r, 600));
    expect(await ok(admin.GET('/jobs/{id}', { params: { path: { id } } }))).toMatchObject({ status: 'canceled', stageCode: 'canceled' });

    const failing = await ok(admin.POST('/jobs/diagnostics', { body: { durationMs: 10, steps: 1, failWith: 'reference is on another grid' } }));
    const failed = await waitForJob(admin, failing.id, ['failed']);
    expect(failed).toMatchObject({ attempts: 1, stageCode: 'failed' });
    expect(failed.error).toMatchObject({ message: 'reference is on another grid', retrying: false });
  });

  it('keeps every job record across a restart', async () => {
    const before = await ok(lumenApi(api.url, KEYS.admin).GET('/jobs', { params: { query: { limit: 200 } } }));
    expect(await api.stop('SIGTERM')).toBe(0);
    api = await startApi({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir, MODELS_DIR: path.join(dataDir, 'no-models') });
    const after = await ok(lumenApi(api.url, KEYS.admin).GET('/jobs', { params: { query: { limit: 200 } } }));
    expect(after.items.map((j) => [j.id, j.status])).toEqual(before.items.map((j) => [j.id, j.status]));
  }, API_READY_MS + 60_000);
});

describe('configuration', () => {
  function start(env: Record<string, string>) {
    return spawnSync(process.execPath, [path.join(ROOT, 'dist/apps/api/src/main.js')], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
  }

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ INFERENCE_DEVICE: 'tpu' }, 'INFERENCE_DEVICE'],
    [{ API_KEYS: 'ops:short:admin' }, 'API_KEYS'],
    [{ API_KEYS: 'ops:long-enough-secret:root' }, 'API_KEYS'],
    [{ UPLOAD_MAX_BYTES: 'lots' }, 'UPLOAD_MAX_BYTES'],
  ])('refuses to start with %j, naming %s', (env, name) => {
    const result = start(env as Record<string, string>);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toContain(name);
  });
});

describe('rate limits, security headers, CORS', () => {
  it('answers 429 with Retry-After past a key\'s limit, per key, and sets security headers', async () => {
    const dataDir = tempDir();
    const api = await startApi({ DATABASE_URL: await createDatabase(), DATA_DIR: dataDir, MODELS_DIR: path.join(dataDir, 'no-models'), RATE_LIMIT_PER_MINUTE: '60' });
    try {
      const statuses: number[] = [];
      let limited: Response | undefined;
      for (let i = 0; i < 15; i++) {
        const { response } = await lumenApi(api.url, KEYS.admin).GET('/jobs', { params: { query: { limit: 1 } } });
        statuses.push(response.status);
        if (response.status === 429) limited = response;
      }
      expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
      expect(limited).toBeDefined();
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited!.headers.get('content-type')).toContain('application/problem+json');
      // Another key has its own bucket.
      const { response: other } = await lumenApi(api.url, KEYS.search).GET('/jobs', { params: { query: { limit: 1 } } });
      expect(other.status).toBe(200);
      expect(other.headers.get('x-content-type-options')).toBe('nosniff');
      expect(other.headers.get('x-frame-options')).toBe('DENY');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      // Error bodies reveal no stack traces or file paths.
      const text = await (await client(api.url, KEYS.admin).get('/jobs/not-a-uuid')).text();
      expect(text).not.toMatch(/\/work\/|node_modules|at \w+ \(/);
    } finally {
      await api.stop();
    }
  }, API_READY_MS + 60_000);
});
