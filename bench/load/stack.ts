/**
 * The stack the load benches run against: an embedded PostgreSQL of their own, the built API
 * (WORKER_ENABLED=false) and a separate worker process, in a temporary directory removed at stop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startThrowawayPostgres } from '../../test/support/postgres.mjs';
import { ROOT, freePort } from '../support.js';

export type Stack = { url: string; databaseUrl: string; dataDir: string; api: ChildProcess; worker: ChildProcess; stop: () => Promise<void> };

function spawnApp(app: 'api' | 'worker', env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [path.join(ROOT, 'dist', 'apps', app, 'src', 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** Starts PostgreSQL, the API (on a free loopback port) and the worker, with `env` for both apps. */
export async function startStack(name: string, env: Record<string, string>): Promise<Stack> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `lumen-${name}-`));
  const { server: database, url: databaseUrl } = await startThrowawayPostgres({ dir: work, password: `lumen-${name}`, maxConnections: 200 });
  const port = await freePort();
  const dataDir = path.join(work, 'data');
  const appEnv = { DATABASE_URL: databaseUrl, DATA_DIR: dataDir, ...env };
  const api = spawnApp('api', { ...appEnv, PORT: String(port), HOST: '127.0.0.1', WORKER_ENABLED: 'false' });
  const worker = spawnApp('worker', appEnv);
  return {
    url: `http://127.0.0.1:${port}`,
    databaseUrl,
    dataDir,
    api,
    worker,
    stop: async () => {
      api.kill('SIGTERM');
      worker.kill('SIGTERM');
      await Promise.all([api, worker].map((child) => new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))));
      await database.stop();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A /proc/<pid>/status field in MiB (VmRSS now, VmHWM the peak), or null once the process is gone. */
export function memoryMiB(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Runs a bench's main, printing what stopped it. */
export function runBench(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
