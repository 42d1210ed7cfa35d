/**
 * What every benchmark needs to run the built service: a free port, an API process with its
 * own embedded PostgreSQL and a fresh key, readiness, and percentiles.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/net.mjs';

export { freePort };

/** The repository root, from bench/ or from dist/bench/. */
export const ROOT = path.resolve(import.meta.dirname, '..', ...(import.meta.dirname.includes(`${path.sep}dist${path.sep}`) || import.meta.dirname.endsWith(`${path.sep}dist${path.sep}bench`) ? ['..'] : []));

/** The p-th percentile of ascending values (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

export type BenchApi = {
  url: string;
  key: string;
  /** The API's process id when the bench started it (not for LUMEN_URL). */
  pid?: number;
  output: () => string;
  stop: () => Promise<void>;
};

/**
 * The built API (`npm run build` first) on a free port with an embedded PostgreSQL of its own
 * in a temporary DATA_DIR, whatever DATABASE_URL the shell has, and one key with `scopes`.
 * LUMEN_URL (with LUMEN_API_KEY or data/admin.key) measures a server that is already running.
 */
export async function startBenchApi(options: { models: string[]; scopes: string; modelsDir: string; env?: Record<string, string> }): Promise<BenchApi> {
  if (process.env.LUMEN_URL) {
    const key = process.env.LUMEN_API_KEY ?? fs.readFileSync(path.join(ROOT, 'data', 'admin.key'), 'utf8').trim();
    return { url: process.env.LUMEN_URL.replace(/\/$/, ''), key, output: () => '', stop: async () => undefined };
  }
  const main = path.join(ROOT, 'dist', 'apps', 'api', 'src', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-bench-'));
  const key = `bench-${randomBytes(12).toString('hex')}`;
  const port = await freePort();
  const { DATABASE_URL: _ignored, ...environment } = process.env;
  const child: ChildProcess = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: {
      ...environment,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(await freePort()),
      MODELS_DIR: options.modelsDir,
      MODELS: options.models.join(','),
      API_KEYS: `bench:${key}:${options.scopes}`,
      LOG_LEVEL: 'warn',
      // A load generator is one key sending far more than a client would: no per-key rate limit.
      RATE_LIMIT_PER_MINUTE: '0',
      ...options.env,
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
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    url,
    key,
    pid: child.pid,
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

/** The registry version a model is served at: the highest numbered folder in models/<name>. */
export function servedVersion(root: string, name: string): string {
  return String(Math.max(...fs.readdirSync(path.join(root, 'models', name)).filter((v) => /^\d+$/.test(v)).map(Number)));
}
