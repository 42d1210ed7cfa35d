import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { freePort } from './net.mjs';

export { freePort };

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const SHARED_DATA = path.resolve(ROOT, '..', 'shared', 'data');

// Secrets need at least 16 characters (MIN_SECRET_LENGTH).
export const KEYS = {
  admin: 'ops-secret-000001',
  search: 'app-secret-000002',
  segment: 'lab-secret-000003',
  hypergraph: 'graph-secret-0004',
  otherSearch: 'other-secret-0005',
  infer: 'infer-secret-00006',
};
export const API_KEYS = `ops:${KEYS.admin}:admin,app:${KEYS.search}:search,lab:${KEYS.segment}:segment+search,graph:${KEYS.hypergraph}:hypergraph,other:${KEYS.otherSearch}:search+segment,tensors:${KEYS.infer}:infer`;

/**
 * A fresh, empty database on the test server (see test/global-setup.mjs), dropped when the test
 * file is done (test/node-realm-environment.cjs).
 */
export async function createDatabase(): Promise<string> {
  const serverUrl = process.env.LUMEN_TEST_SERVER_URL;
  if (!serverUrl) throw new Error('LUMEN_TEST_SERVER_URL is not set: run through jest (globalSetup)');
  const name = `lumen_test_${randomBytes(6).toString('hex')}`;
  (globalThis as { __LUMEN_TEST_DATABASES__?: string[] }).__LUMEN_TEST_DATABASES__?.push(name);
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export type LumenProcess = {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
};

export function tempDir(prefix = 'lumen-e2e-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Spawns the built API (or worker) as a real process, as a user would run it. */
export function spawnLumen(app: 'api' | 'worker', env: Record<string, string>): LumenProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'apps', app, 'src', 'main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LOG_LEVEL: 'warn',
      INFERENCE_THREADS: '1',
      // Lets a run point every suite at another model registry (e.g. candidate models).
      ...(process.env.MODELS_DIR ? { MODELS_DIR: process.env.MODELS_DIR } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    url: `http://127.0.0.1:${env.PORT ?? '3000'}`,
    child,
    output: () => output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 90_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/**
 * How long startApi waits for /health/ready. A test or hook that starts the API sets its Jest
 * timeout from this (plus its other waits), so that this wait, with its message and the
 * process output, fails before Jest's timeout does.
 */
export const API_READY_MS = 120_000;

/** Starts the API on a fresh port and waits for /health/ready. */
export async function startApi(env: Record<string, string>): Promise<LumenProcess> {
  const port = await freePort();
  const api = spawnLumen('api', { PORT: String(port), HOST: '127.0.0.1', API_KEYS, ...env });
  await waitFor(
    `API ready (output so far:\n${api.output()})`,
    async () => {
      if (api.child.exitCode !== null) throw new Error(`API exited with ${api.child.exitCode}:\n${api.output()}`);
      return (await fetch(`${api.url}/health/ready`)).status === 200;
    },
    API_READY_MS,
  );
  return api;
}

/**
 * For a describe block: starts the API with the two CT models on a fresh database and data
 * directory before its tests, stops it after. Returns accessors (the values exist once beforeAll ran).
 */
export function useSegmentationApi(): { api: () => LumenProcess; dataDir: () => string } {
  let api: LumenProcess;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = tempDir();
    api = await startApi({ DATABASE_URL: await createDatabase(), DATA_DIR: dataDir, MODELS: 'ct-organs-coarse,ct-organs-fine', INFERENCE_THREADS: '2' });
  }, API_READY_MS + 60_000);
  afterAll(async () => {
    await api?.stop();
  });
  return { api: () => api, dataDir: () => dataDir };
}

/** Reads a NIfTI-1 file (gzip or not) without any library: size, datatype, pixdim, the raw bytes and the voxel data. */
export function readNifti(bytes: Buffer) {
  const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  return {
    dims: [1, 2, 3].map((i) => raw.readInt16LE(40 + 2 * i)),
    datatype: raw.readInt16LE(70),
    pixdim: [1, 2, 3].map((i) => raw.readFloatLE(76 + 4 * i)),
    raw,
    voxels: raw.subarray(raw.readFloatLE(108)),
  };
}

/** pg-boss's own rows for a job id (its queue table): what the queue did, beside what Lumen's job row says. */
export async function queueRecords(databaseUrl: string, id: string): Promise<{ state: string; retryCount: number }[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ state: string; retry_count: number }>('SELECT state::text, retry_count FROM pgboss.job WHERE id = $1::uuid', [id]);
    return rows.map((r) => ({ state: r.state, retryCount: r.retry_count }));
  } finally {
    await db.end();
  }
}

export function client(base: string, key?: string) {
  const headers = (extra: Record<string, string> = {}) => ({ ...(key ? { 'x-api-key': key } : {}), ...extra });
  return {
    get: (p: string) => fetch(`${base}${p}`, { headers: headers() }),
    delete: (p: string) => fetch(`${base}${p}`, { method: 'DELETE', headers: headers() }),
    post: (p: string, body?: unknown) =>
      fetch(`${base}${p}`, { method: 'POST', headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }), body: body === undefined ? undefined : JSON.stringify(body) }),
    postForm: (p: string, form: FormData) => fetch(`${base}${p}`, { method: 'POST', headers: headers(), body: form }),
  };
}

/** The version of a model the registry serves: the highest numbered folder under models/<name> holding a model.onnx. */
export function servedVersion(name: string): string {
  const dir = path.join(process.env.MODELS_DIR ?? path.join(ROOT, 'models'), name);
  const versions = fs
    .readdirSync(dir)
    .filter((v) => /^\d+$/.test(v) && fs.existsSync(path.join(dir, v, 'model.onnx')))
    .sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error(`no served version of ${name} under ${dir}`);
  return versions[0];
}
