/**
 * Scores every candidate of each served dataset's test-eval.bin.gz through POST
 * /hypergraphs/{name}/score (4,096 per request) and compares AUC / AUPR with the model card
 * (`metrics.test`, the headline); where the card also states the leaky as-given figure
 * (`metrics.testAsGiven`, drug), its test-as-given-eval.bin.gz too.
 * Exits 1 when an AUC differs from its card by 0.005 or more.
 *
 *   npm run build && node dist/bench/hypergraph/auc-through-api.js [dataset ...]
 *
 * Talks to LUMEN_URL when set, else starts the built API (see api-process.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { EVAL_FILE, type EvalRows, MAX_CANDIDATES_PER_REQUEST, averagePrecision, readEvalFile, rocAuc } from '@lumen/hypergraph';
import { type Api, type DatasetInfo, MODELS_DIR, listDatasets, machine, scoreThroughApi, startApi } from './api-process.js';

const TOLERANCE = 0.005;
/** The leaky "every test row as given" candidates, beside test-eval.bin.gz where the card has them. */
const AS_GIVEN_FILE = 'test-as-given-eval.bin.gz';

type Figures = { auc: number; aupr: number };

/** Scores every row through the API; AUC and AUPR against the card's figures. */
async function measure(api: Api, dataset: DatasetInfo, rows: EvalRows, card: Figures | null, set: string): Promise<Record<string, unknown>> {
  const types = dataset.nodeTypes.length;
  const scores = new Float64Array(rows.rows);
  const started = performance.now();
  for (let start = 0; start < rows.rows; start += MAX_CANDIDATES_PER_REQUEST) {
    const end = Math.min(rows.rows, start + MAX_CANDIDATES_PER_REQUEST);
    const hyperedges = [];
    for (let row = start; row < end; row++) hyperedges.push(dataset.nodeTypes.map((t, c) => ({ type: t.name, id: rows.ids[row * types + c] })));
    scores.set(await scoreThroughApi(api, dataset.name, hyperedges), start);
  }
  const seconds = (performance.now() - started) / 1000;
  const auc = rocAuc(scores, rows.labels);
  const aupr = averagePrecision(scores, rows.labels);
  const aucDelta = card ? Math.abs(auc - card.auc) : null;
  return {
    dataset: dataset.name,
    set,
    model: `${dataset.model} v${dataset.version}`,
    candidates: rows.rows,
    positives: rows.labels.reduce((a, b) => a + b, 0),
    auc: Number(auc.toFixed(4)),
    cardAuc: card?.auc ?? null,
    aupr: Number(aupr.toFixed(4)),
    cardAupr: card?.aupr ?? null,
    aucDelta: aucDelta === null ? null : Number(aucDelta.toFixed(5)),
    withinTolerance: aucDelta !== null && aucDelta < TOLERANCE,
    seconds: Number(seconds.toFixed(2)),
    candidatesPerSecond: Math.round(rows.rows / seconds),
  };
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const api = await startApi(only.length ? only.map((d) => `hypersagnn-${d}`) : undefined);
  const results: Record<string, unknown>[] = [];
  try {
    for (const dataset of await listDatasets(api)) {
      if (only.length && !only.includes(dataset.name)) continue;
      const directory = path.join(MODELS_DIR, dataset.model, dataset.version);
      if (!fs.existsSync(path.join(directory, EVAL_FILE))) {
        results.push({ dataset: dataset.name, skipped: `no ${EVAL_FILE} in ${directory}` });
        continue;
      }
      const read = (file: string) => readEvalFile(directory, dataset.nodeTypes.length, file);
      results.push(await measure(api, dataset, read(EVAL_FILE), dataset.testMetrics, 'test (headline)'));
      const card = JSON.parse(fs.readFileSync(path.join(directory, 'card.json'), 'utf8')) as { metrics?: { testAsGiven?: Figures } };
      if (card.metrics?.testAsGiven && fs.existsSync(path.join(directory, AS_GIVEN_FILE))) {
        results.push(await measure(api, dataset, read(AS_GIVEN_FILE), card.metrics.testAsGiven, 'test as given (leaky)'));
      }
    }
  } finally {
    await api.stop();
  }
  console.log(JSON.stringify({ bench: 'hypergraph AUC through the API', machine: machine(), tolerance: TOLERANCE, results }, null, 2));
  if (results.some((r) => r.withinTolerance === false)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
