// Beyond one process: two API replicas and two workers, all real processes built from dist/, on
// one PostgreSQL database and one data directory (the shared volume). Writes acknowledged by
// one replica must be found by the other's searches within 1 s, in the same order, ties
// included; a replica restarted mid-stream catches up; jobs run exactly once on whichever
// worker takes them, and go on when the other worker dies.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { type LumenApi, type Schemas, file, lumenApi, ok } from './support/api.js';
import { API_KEYS, API_READY_MS, KEYS, ROOT, type LumenProcess, createDatabase, freePort, queueRecords, spawnLumen, startApi, tempDir, waitFor } from './support/lumen.js';

const IMAGES = path.join(ROOT, 'test', 'fixtures', 'images');
const CT = path.join(ROOT, 'test', 'fixtures', 'ct', 'phantom_lps.nii.gz');
const HASHING = 'hash-cifar10-64bit';
const CT_MODELS = 'ct-organs-coarse,ct-organs-fine';
/** The visibility promised across replicas (p99); every measured write is held to it. */
const VISIBLE_MS = 1000;

type Hit = Schemas['SearchHitDto'];
type Ranking = string[];

const images = fs.readdirSync(IMAGES).filter((f) => f.endsWith('.jpg')).sort();
const image = (name: string) => file(new Uint8Array(fs.readFileSync(path.join(IMAGES, name))), name, 'image/jpeg');

/** Query codes: all zeros, all ones, and alternating bits; with 64-bit codes every ranking has ties. */
const QUERIES = ['0000000000000000', 'ffffffffffffffff', '5555555555555555', 'aaaaaaaaaaaaaaaa'];

async function jobRow(databaseUrl: string, id: string): Promise<{ status: string; attempts: number; worker_id: string | null }> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query('SELECT status::text, attempts, worker_id FROM job WHERE id = $1::uuid', [id]);
    return rows[0];
  } finally {
    await db.end();
  }
}

/** Starts a worker and waits until it consumes the queues (its start-up line). */
async function startWorker(env: Record<string, string>): Promise<LumenProcess> {
  const worker = spawnLumen('worker', { ...env, LOG_LEVEL: 'info' });
  await waitFor(`worker started (output so far:\n${worker.output()})`, async () => {
    if (worker.child.exitCode !== null) throw new Error(`worker exited with ${worker.child.exitCode}:\n${worker.output()}`);
    return worker.output().includes('Lumen worker started');
  }, API_READY_MS);
  return worker;
}

describe('scale-out: two API replicas and two workers on one PostgreSQL and one data directory', () => {
  let databaseUrl: string;
  let env: Record<string, string>;
  let apiA: LumenProcess;
  let apiB: LumenProcess;
  let workers: LumenProcess[];
  let a: LumenApi;
  let b: LumenApi;
  let collectionId: string;
  const processes: LumenProcess[] = [];
  /** Milliseconds from a write's acknowledgement on one replica to the other finding it. */
  const latencies: number[] = [];

  const startB = async () => {
    apiB = await startApi({ ...env, MODELS: HASHING });
    processes.push(apiB);
    b = lumenApi(apiB.url, KEYS.segment); // the same owner as on A
  };

  beforeAll(async () => {
    databaseUrl = await createDatabase();
    env = { DATABASE_URL: databaseUrl, DATA_DIR: tempDir(), WORKER_ENABLED: 'false', JOB_HEARTBEAT_SECONDS: '10', JOB_SUPERVISE_SECONDS: '1' };
    // A first, so that B and the workers find the schema migrated; then the rest side by side.
    apiA = await startApi({ ...env, MODELS: `${HASHING},${CT_MODELS}` });
    processes.push(apiA);
    a = lumenApi(apiA.url, KEYS.segment);
    const workerEnv = { ...env, MODELS: CT_MODELS };
    [, ...workers] = await Promise.all([startB(), startWorker(workerEnv), startWorker(workerEnv)]);
    processes.push(...workers);
  }, 2 * API_READY_MS + 30_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    if (latencies.length) {
      const sorted = [...latencies].sort((x, y) => x - y);
      console.log(`cross-replica visibility over ${sorted.length} writes: median ${sorted[sorted.length >> 1]} ms, max ${sorted[sorted.length - 1]} ms`);
    }
  });

  const search = (api: LumenApi, body: { code: string; k?: number }) => ok(api.POST('/collections/{id}/search', { params: { path: { id: collectionId } }, body: { k: 100, ...body } }));
  const ranking = async (api: LumenApi, code: string): Promise<Ranking> => (await search(api, { code })).results.map((h: Hit) => `${h.imageId}:${h.distance}`);
  const rankings = (api: LumenApi) => Promise.all(QUERIES.map((code) => ranking(api, code)));

  /** Polls `api` until `seen` holds for the hits of `code`; returns the time since `since`. */
  async function visibleAfter(api: LumenApi, code: string, seen: (ids: string[]) => boolean, since: number): Promise<number> {
    for (;;) {
      const ids = (await search(api, { code })).results.map((h: Hit) => h.imageId);
      if (seen(ids)) return Date.now() - since;
      if (Date.now() - since > 5 * VISIBLE_MS) throw new Error(`not visible after ${Date.now() - since} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('finds on B, within 1 s, every image added on A, and ranks exactly as A does (ties included)', async () => {
    collectionId = (await ok(a.POST('/collections', { body: { name: 'shared' } }), 201)).id;
    expect(await ranking(b, QUERIES[0])).toEqual([]); // B has loaded the (empty) index before the writes
    for (const name of images.slice(0, 12)) {
      const added = await ok(a.POST('/collections/{id}/images', { params: { path: { id: collectionId } }, body: { images: [image(name)] } }));
      const acknowledged = Date.now();
      const { id, code } = added.results[0];
      latencies.push(await visibleAfter(b, code!, (ids) => ids.includes(id!), acknowledged));
    }
    // A batch of several files is one write: all of it appears at once.
    const batch = await ok(a.POST('/collections/{id}/images', { params: { path: { id: collectionId } }, body: { images: images.slice(12).map(image) } }));
    const acknowledged = Date.now();
    const ids = batch.results.map((r) => r.id!);
    latencies.push(await visibleAfter(b, batch.results[0].code!, (seen) => ids.every((id) => seen.includes(id)), acknowledged));
    expect(Math.max(...latencies)).toBeLessThan(VISIBLE_MS);
    const onA = await rankings(a);
    expect(onA[0]).toHaveLength(images.length);
    expect(new Set(onA[0].map((hit) => hit.split(':')[1])).size).toBeLessThan(images.length); // there are ties to order
    expect(await rankings(b)).toEqual(onA);
  }, 60_000);

  it('removes from A, within 1 s, the images deleted on B', async () => {
    const [first, second] = (await search(a, { code: QUERIES[0], k: 2 })).results;
    for (const hit of [first, second]) {
      await ok(b.DELETE('/collections/{id}/images/{imageId}', { params: { path: { id: collectionId, imageId: hit.imageId } } }), 204);
      const acknowledged = Date.now();
      latencies.push(await visibleAfter(a, QUERIES[0], (ids) => !ids.includes(hit.imageId), acknowledged));
    }
    expect(Math.max(...latencies)).toBeLessThan(VISIBLE_MS);
    expect(await rankings(a)).toEqual(await rankings(b));
    expect((await rankings(a))[0]).toHaveLength(images.length - 2);
  }, 30_000);

  it('still shows a write on B within 1 s when its notification is lost (the listening connections are cut: the poll catches up)', async () => {
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query("SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN lumen_collection_events'");
      expect(rows.length).toBeGreaterThanOrEqual(2); // A's and B's
    } finally {
      await db.end();
    }
    const removed = (await search(a, { code: QUERIES[2], k: 1 })).results[0].imageId;
    await ok(a.DELETE('/collections/{id}/images/{imageId}', { params: { path: { id: collectionId, imageId: removed } } }), 204);
    const acknowledged = Date.now();
    const latency = await visibleAfter(b, QUERIES[2], (ids) => !ids.includes(removed), acknowledged);
    latencies.push(latency);
    expect(latency).toBeLessThan(VISIBLE_MS);
    expect(await rankings(b)).toEqual(await rankings(a));
  }, 30_000);

  it('brings a replica killed mid-stream up to date when it starts again, and keeps it coherent after', async () => {
    const stream = images.slice(0, 6);
    const deleting = (await search(a, { code: QUERIES[1], k: 3 })).results.map((h: Hit) => h.imageId);
    // Writes on A while B dies and while it is down: deletes and re-adds (new rows, new insertion order).
    const writes = (async () => {
      for (const id of deleting) await ok(a.DELETE('/collections/{id}/images/{imageId}', { params: { path: { id: collectionId, imageId: id } } }), 204);
      for (const name of stream) await ok(a.POST('/collections/{id}/images', { params: { path: { id: collectionId } }, body: { images: [image(name)] } }));
    })();
    await new Promise((r) => setTimeout(r, 50));
    expect(await apiB.stop('SIGKILL')).toBeNull();
    await writes;
    await startB();
    const onA = await rankings(a);
    expect(await rankings(b)).toEqual(onA);
    // Listening again: a new write on A reaches the restarted B within the bound.
    const removed = onA[0][0].split(':')[0];
    await ok(a.DELETE('/collections/{id}/images/{imageId}', { params: { path: { id: collectionId, imageId: removed } } }), 204);
    const acknowledged = Date.now();
    latencies.push(await visibleAfter(b, QUERIES[0], (ids) => !ids.includes(removed), acknowledged));
    expect(Math.max(...latencies)).toBeLessThan(VISIBLE_MS);
    expect(await rankings(b)).toEqual(await rankings(a));
  }, API_READY_MS + 30_000);

  it('answers 404 on B for a collection deleted on A', async () => {
    const other = (await ok(a.POST('/collections', { body: { name: 'short-lived' } }), 201)).id;
    await ok(a.POST('/collections/{id}/images', { params: { path: { id: other } }, body: { images: [image(images[0])] } }));
    expect((await ok(b.POST('/collections/{id}/search', { params: { path: { id: other } }, body: { code: QUERIES[0] } }))).results).toHaveLength(1);
    await ok(a.DELETE('/collections/{id}', { params: { path: { id: other } } }), 204);
    const acknowledged = Date.now();
    await waitFor('B to forget the collection', async () => (await b.POST('/collections/{id}/search', { params: { path: { id: other } }, body: { code: QUERIES[0] } })).response.status === 404, VISIBLE_MS, 5);
    latencies.push(Date.now() - acknowledged);
  });

  it('reports the fleet and each replica\'s index memory in /metrics', async () => {
    const text = async (url: string) => (await fetch(`${url}/metrics`, { headers: { 'x-api-key': KEYS.admin } })).text();
    const metrics = await text(apiA.url);
    expect(metrics).toMatch(/^lumen_workers\{device="cpu"\} 2$/m);
    expect(metrics).toMatch(/^lumen_workers\{device="cuda"\} 0$/m);
    for (const worker of workers) expect(metrics).toMatch(new RegExp(`^lumen_worker_running_jobs\\{.*worker=".*-${worker.child.pid}".*\\} 0$`, 'm'));
    const onB = await text(apiB.url);
    const codes = Number(/^lumen_collection_index_codes (\d+)$/m.exec(onB)![1]);
    expect(codes).toBe((await rankings(b))[0].length);
    expect(Number(/^lumen_collection_index_bytes (\d+)$/m.exec(onB)![1])).toBeGreaterThan(codes * 8);
  });

  it('runs every job exactly once across the two workers, whichever replica queued it', async () => {
    const admins = [lumenApi(apiA.url, KEYS.admin), lumenApi(apiB.url, KEYS.admin)];
    const queued = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ok(admins[i % 2].POST('/jobs/diagnostics', { body: { durationMs: 1500, steps: 3 } }), 202)),
    );
    const pids = new Set(workers.map((w) => w.child.pid));
    for (const { id } of queued) {
      const done = await waitFor(`job ${id}`, async () => {
        const job = await ok(admins[0].GET('/jobs/{id}', { params: { path: { id } } }));
        return ['succeeded', 'failed'].includes(job.status) ? job : undefined;
      }, 30_000);
      expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(pids.has((done.result as { pid: number }).pid)).toBe(true);
      expect(await queueRecords(databaseUrl, id)).toEqual([{ state: 'completed', retryCount: 0 }]);
    }
  }, 60_000);

  it('finishes a segmentation submitted on A on one worker while the other worker is killed, once, with its results served by B', async () => {
    const created = await ok(a.POST('/segmentations', { body: { image: [file(new Uint8Array(fs.readFileSync(CT)), 'phantom_lps.nii.gz')] } }), 202);
    const running = await waitFor('a worker to take the segmentation', async () => {
      const row = await jobRow(databaseUrl, created.id);
      return row.status === 'running' ? row : undefined;
    }, 30_000, 50);
    const runner = workers.find((w) => running.worker_id?.endsWith(`-${w.child.pid}`));
    const other = workers.find((w) => w !== runner)!;
    expect(runner).toBeDefined();
    const metrics = await (await fetch(`${apiA.url}/metrics`, { headers: { 'x-api-key': KEYS.admin } })).text();
    expect(metrics).toMatch(new RegExp(`^lumen_worker_running_jobs\\{.*worker="${running.worker_id}".*\\} 1$`, 'm'));
    expect(await other.stop('SIGKILL')).toBeNull();
    expect((await jobRow(databaseUrl, created.id)).status).toBe('running'); // it was still running when the other died
    const segment = lumenApi(apiB.url, KEYS.segment);
    const done = await waitFor('the segmentation to finish', async () => {
      const s = await ok(segment.GET('/segmentations/{id}', { params: { path: { id: created.id } } }));
      return ['succeeded', 'failed', 'canceled'].includes(s.status) ? s : undefined;
    }, 120_000, 250);
    expect(done.status).toBe('succeeded');
    expect(await jobRow(databaseUrl, created.id)).toMatchObject({ status: 'succeeded', attempts: 1, worker_id: running.worker_id });
    expect(await queueRecords(databaseUrl, created.id)).toEqual([{ state: 'completed', retryCount: 0 }]);
    // Written by the worker, served by the replica that did not take the upload: one shared data directory.
    const labels = await segment.GET('/segmentations/{id}/labels', { params: { path: { id: created.id } }, parseAs: 'arrayBuffer' });
    expect(labels.response.status).toBe(200);
    expect(new Uint8Array(labels.data as ArrayBuffer).subarray(0, 2)).toEqual(new Uint8Array([0x1f, 0x8b]));
  }, 180_000);
});

describe('shared storage: a process that cannot write the storage root refuses to start', () => {
  it.each(['api', 'worker'] as const)('the %s exits with a message naming the root, the reason and the fix', async (app) => {
    const dir = tempDir();
    const notAFolder = path.join(dir, 'not-a-folder');
    fs.writeFileSync(notAFolder, '');
    const root = path.join(notAFolder, 'storage');
    const process = spawnLumen(app, {
      DATABASE_URL: await createDatabase(),
      DATA_DIR: dir,
      STORAGE_DIR: root,
      MODELS_DIR: path.join(dir, 'no-models'),
      API_KEYS,
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
    });
    expect(await process.exited).toBe(1);
    expect(process.output()).toContain(`Storage root ${root} cannot be written by this process (ENOTDIR`);
    expect(process.output()).toContain('set STORAGE_DIR');
    expect(process.output()).not.toMatch(/\n\s+at /); // a refusal, not a crash: no stack trace
  }, 60_000);
});
