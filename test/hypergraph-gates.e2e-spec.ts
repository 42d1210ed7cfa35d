import fs from 'node:fs';
import path from 'node:path';
import { type NodeTypeSpec, averagePrecision, readEvalFile, rocAuc } from '@lumen/hypergraph';
import { servedModelDir } from './support/hypergraph-data.js';
import { API_READY_MS, KEYS, type LumenProcess, ROOT, client, createDatabase, startApi, tempDir } from './support/lumen.js';

/**
 * CI gates of every Hyper-SAGNN model: a fixed, committed subset of its test candidates (the
 * first `metrics.gate.rows` rows of test-eval.bin.gz, one request), scored through the API, must
 * reproduce the AUC and AUPR the card states for it within 0.005.
 */
const MODELS_DIR = process.env.MODELS_DIR ?? path.join(ROOT, 'models');
const DATASETS = ['gps', 'movielens', 'drug', 'wordnet'];
const TOLERANCE = 0.005;

type Figures = { auc: number; aupr: number; positives: number };
type Card = {
  version: string;
  preprocessing: { nodeTypes: NodeTypeSpec[] };
  metrics: { test: Figures; gate: Figures & { rows: number }; testAsGiven?: Figures };
};

const models = DATASETS.map((dataset) => {
  const directory = servedModelDir(MODELS_DIR, `hypersagnn-${dataset}`);
  return { dataset, directory, card: JSON.parse(fs.readFileSync(path.join(directory, 'card.json'), 'utf8')) as Card };
});

describe('hypergraph gates: every model reproduces its card through the API', () => {
  let api: LumenProcess;
  let graph: ReturnType<typeof client>;

  beforeAll(async () => {
    api = await startApi({ DATABASE_URL: await createDatabase(), DATA_DIR: tempDir(), MODELS: models.map((m) => `hypersagnn-${m.dataset}`).join(',') });
    graph = client(api.url, KEYS.hypergraph);
  }, API_READY_MS + 120_000);

  afterAll(async () => {
    await api?.stop();
  });

  it('serves the four datasets at the versions on disk, listing each card’s headline test metrics', async () => {
    const listed = (await (await graph.get('/hypergraphs')).json()) as { name: string; version: string; ready: boolean; testMetrics: Figures }[];
    expect(listed.map((d) => d.name)).toEqual([...DATASETS].sort());
    for (const { dataset, card } of models) {
      expect(listed.find((d) => d.name === dataset)).toMatchObject({ version: card.version, ready: true, testMetrics: { auc: card.metrics.test.auc, aupr: card.metrics.test.aupr } });
    }
  });

  it.each(DATASETS)('%s: the gate subset scores the card’s AUC and AUPR within 0.005', async (dataset) => {
    const { directory, card } = models.find((m) => m.dataset === dataset)!;
    const types = card.preprocessing.nodeTypes;
    const all = readEvalFile(directory, types.length);
    const { rows, auc, aupr, positives } = card.metrics.gate;
    expect(rows).toBeLessThanOrEqual(Math.min(all.rows, 4096));
    const labels = all.labels.subarray(0, rows);
    expect(labels.reduce((a, b) => a + b, 0)).toBe(positives);
    const hyperedges = Array.from({ length: rows }, (_, row) => types.map((t, c) => ({ type: t.name, id: all.ids[row * types.length + c] })));
    const response = await graph.post(`/hypergraphs/${dataset}/score`, { hyperedges });
    expect(response.status).toBe(200);
    const scores = Float64Array.from(((await response.json()) as { scores: number[] }).scores);
    expect(scores).toHaveLength(rows);
    expect(Math.abs(rocAuc(scores, labels) - auc)).toBeLessThan(TOLERANCE);
    expect(Math.abs(averagePrecision(scores, labels) - aupr)).toBeLessThan(TOLERANCE);
  });
});
