/**
 * The Lumen API a hypergraph bench talks to: `LUMEN_URL` (+ `LUMEN_API_KEY`, default the key in
 * data/admin.key) when set, else the built API started here as a child process with a temporary
 * DATA_DIR, an embedded PostgreSQL on a free port and only the Hyper-SAGNN models loaded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MODEL_PREFIX } from '@lumen/hypergraph';

export const ROOT = path.resolve(import.meta.dirname, '..', '..', ...(import.meta.dirname.includes(`${path.sep}dist${path.sep}`) ? ['..'] : []));
export const MODELS_DIR = path.resolve(process.env.MODELS_DIR ?? path.join(ROOT, 'models'));

export type Api = { url: string; key: string; output: () => string; stop: () => Promise<void> };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Hyper-SAGNN model names present under MODELS_DIR (a model.onnx in some version). */
export function hypergraphModels(): string[] {
  if (!fs.existsSync(MODELS_DIR)) return [];
  return fs
    .readdirSync(MODELS_DIR)
    .filter((name) => name.startsWith(MODEL_PREFIX))
    .filter((name) => fs.readdirSync(path.join(MODELS_DIR, name)).some((v) => fs.existsSync(path.join(MODELS_DIR, name, v, 'model.onnx'))))
    .sort();
}

export async function startApi(models = hypergraphModels()): Promise<Api> {
  if (process.env.LUMEN_URL) {
    const key = process.env.LUMEN_API_KEY ?? fs.readFileSync(path.join(ROOT, 'data', 'admin.key'), 'utf8').trim();
    return { url: process.env.LUMEN_URL.replace(/\/$/, ''), key, output: () => '', stop: async () => undefined };
  }
  if (!models.length) throw new Error(`no ${MODEL_PREFIX}* models in ${MODELS_DIR}`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-bench-'));
  const key = `bench-${randomBytes(12).toString('hex')}`;
  const port = await freePort();
  const main = path.join(ROOT, 'dist', 'apps', 'api', 'src', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  // An embedded PostgreSQL of its own, whatever DATABASE_URL the shell has.
  const { DATABASE_URL: _ignored, ...environment } = process.env;
  const child: ChildProcess = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: {
      ...environment,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(await freePort()),
      MODELS_DIR,
      MODELS: models.join(','),
      API_KEYS: `bench:${key}:hypergraph+admin`,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`API not ready after 180 s:\n${output}`);
    if (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    url,
    key,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) console.error(`the API had exited with ${child.exitCode}:\n${output}`);
      else {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A served dataset as GET /hypergraphs lists it. */
export type DatasetInfo = {
  name: string;
  model: string;
  version: string;
  nodeTypes: { name: string; count: number }[];
  testMetrics: { auc: number; aupr: number } | null;
};

export async function listDatasets(api: Api): Promise<DatasetInfo[]> {
  const response = await fetch(`${api.url}/hypergraphs`, { headers: { 'x-api-key': api.key } });
  if (!response.ok) throw new Error(`GET /hypergraphs: ${response.status} ${await response.text()}`);
  return (await response.json()) as DatasetInfo[];
}

export async function scoreThroughApi(api: Api, dataset: string, hyperedges: { type: string; id: number }[][]): Promise<number[]> {
  const response = await fetch(`${api.url}/hypergraphs/${dataset}/score`, {
    method: 'POST',
    headers: { 'x-api-key': api.key, 'content-type': 'application/json' },
    body: JSON.stringify({ hyperedges }),
  });
  if (!response.ok) throw new Error(`POST /hypergraphs/${dataset}/score: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { scores: number[] }).scores;
}

export function machine(): string {
  return `${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()} logical CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}
