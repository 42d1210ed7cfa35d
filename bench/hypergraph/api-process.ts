/**
 * The Lumen API a hypergraph bench talks to: `LUMEN_URL` (+ `LUMEN_API_KEY`, default the key in
 * data/admin.key) when set, else the built API started here as a child process with a temporary
 * DATA_DIR, an embedded PostgreSQL on a free port and only the Hyper-SAGNN models loaded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MODEL_PREFIX } from '@lumen/hypergraph';
import { type BenchApi, startBenchApi } from '../support.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..', ...(import.meta.dirname.includes(`${path.sep}dist${path.sep}`) ? ['..'] : []));
export const MODELS_DIR = path.resolve(process.env.MODELS_DIR ?? path.join(ROOT, 'models'));

export type Api = BenchApi;

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
  if (!models.length && !process.env.LUMEN_URL) throw new Error(`no ${MODEL_PREFIX}* models in ${MODELS_DIR}`);
  return startBenchApi({ models, scopes: 'hypergraph+admin', modelsDir: MODELS_DIR });
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
