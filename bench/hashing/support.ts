/**
 * Shared pieces of the hashing benches: the CIFAR-10 JPEGs (extracted into .cache/cifar10 once),
 * and the Lumen API they talk to — `LUMEN_URL` (+ `LUMEN_API_KEY`) when set, else the built API
 * started here with a temporary DATA_DIR, an embedded PostgreSQL on a free port and only the
 * hashing models loaded.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..', ...(import.meta.dirname.includes(`${path.sep}dist${path.sep}`) ? ['..'] : []));
export const MODELS_DIR = path.resolve(process.env.MODELS_DIR ?? path.join(ROOT, 'models'));
export const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export type LabelledFile = { file: string; label: number; name: string };

/** The split's JPEGs in database order (class index, then file name), `perClass` of each class. */
export function cifarFiles(split: 'train' | 'test', perClass = Infinity): LabelledFile[] {
  const cache = path.join(ROOT, '.cache', 'cifar10');
  const dir = path.join(cache, split);
  if (!fs.existsSync(path.join(dir, CLASSES[CLASSES.length - 1]))) {
    fs.mkdirSync(cache, { recursive: true });
    execFileSync('tar', ['xzf', path.join(ROOT, '..', 'shared', 'data', 'cifar10', `cifar10-${split}.tar.gz`), '-C', cache]);
  }
  return CLASSES.flatMap((c, label) =>
    fs
      .readdirSync(path.join(dir, c))
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .slice(0, perClass)
      .map((f) => ({ file: path.join(dir, c, f), label, name: `${split}/${c}/${f}` })),
  );
}

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function readCard(model: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(MODELS_DIR, model, '1', 'card.json'), 'utf8'));
}

export type Api = { url: string; key: string; stop: () => Promise<void> };

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

export async function startApi(extraEnv: Record<string, string> = {}): Promise<Api> {
  if (process.env.LUMEN_URL) {
    const key = process.env.LUMEN_API_KEY ?? fs.readFileSync(path.join(ROOT, 'data', 'admin.key'), 'utf8').trim();
    return { url: process.env.LUMEN_URL.replace(/\/$/, ''), key, stop: async () => undefined };
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-hash-bench-'));
  const key = `bench-${randomBytes(12).toString('hex')}`;
  const port = await freePort();
  const main = path.join(ROOT, 'dist', 'apps', 'api', 'src', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const { DATABASE_URL: _ignored, ...environment } = process.env;
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: {
      ...environment,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(await freePort()),
      MODELS_DIR,
      MODELS: 'hash-cifar10-48bit,hash-cifar10-64bit',
      API_KEYS: `bench:${key}:search`,
      LOG_LEVEL: 'warn',
      // A load generator is one key sending far more than a client would: no per-key rate limit.
      RATE_LIMIT_PER_MINUTE: '0',
      ...(process.env.DATABASE_URL_BENCH ? { DATABASE_URL: process.env.DATABASE_URL_BENCH } : {}),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`API not ready after 180 s:\n${output}`);
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    url,
    key,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** JSON request that throws with the problem detail on a non-2xx answer. */
export async function call<T>(api: Api, method: string, route: string, body?: unknown): Promise<T> {
  const isForm = body instanceof FormData;
  const response = await fetch(`${api.url}${route}`, {
    method,
    headers: { 'x-api-key': api.key, ...(body !== undefined && !isForm ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Runs `fn` over items with at most `limit` in flight, in order of start. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i], i);
      }
    }),
  );
  return results;
}
