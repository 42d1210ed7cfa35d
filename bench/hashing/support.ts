/**
 * Shared pieces of the hashing benches: the CIFAR-10 JPEGs (test/support/cifar.ts, extracted into .cache/cifar10 once),
 * and the Lumen API they talk to — `LUMEN_URL` (+ `LUMEN_API_KEY`) when set, else the built API
 * started here with a temporary DATA_DIR, an embedded PostgreSQL on a free port and only the
 * hashing models loaded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type BenchApi, percentile, startBenchApi } from '../support.js';

export { percentile };

export const ROOT = path.resolve(import.meta.dirname, '..', '..', ...(import.meta.dirname.includes(`${path.sep}dist${path.sep}`) ? ['..'] : []));
export const MODELS_DIR = path.resolve(process.env.MODELS_DIR ?? path.join(ROOT, 'models'));
export { type LabelledFile, cifarFiles } from '../../test/support/cifar.js';

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** The served (highest numbered) version of a model, as the registry picks it. */
export function servedVersion(model: string): string {
  return fs
    .readdirSync(path.join(MODELS_DIR, model))
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))[0];
}

export function readCard(model: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(MODELS_DIR, model, servedVersion(model), 'card.json'), 'utf8'));
}

export type Api = BenchApi;

export async function startApi(extraEnv: Record<string, string> = {}): Promise<Api> {
  return startBenchApi({
    models: ['hash-cifar10-48bit', 'hash-cifar10-64bit'],
    scopes: 'search',
    modelsDir: MODELS_DIR,
    env: { ...(process.env.DATABASE_URL_BENCH ? { DATABASE_URL: process.env.DATABASE_URL_BENCH } : {}), ...extraEnv },
  });
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
