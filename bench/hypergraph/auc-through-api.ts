/**
 * Scores every candidate of each served dataset's test-eval.bin.gz through POST
 * /hypergraphs/{name}/score (4,096 per request) and compares AUC / AUPR with the model card.
 * Exits 1 when an AUC differs from its card by 0.005 or more.
 *
 *   npm run build && node dist/bench/hypergraph/auc-through-api.js [dataset ...]
 *
 * Talks to LUMEN_URL when set, else starts the built API (see api-process.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { EVAL_FILE, MAX_CANDIDATES_PER_REQUEST, averagePrecision, readEvalFile, rocAuc } from '@lumen/hypergraph';
import { MODELS_DIR, listDatasets, machine, scoreThroughApi, startApi } from './api-process.js';

const TOLERANCE = 0.005;

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const api = await startApi(only.length ? only.map((d) => `hypersagnn-${d}`) : undefined);
  const results: Record<string, unknown>[] = [];
  let failed = false;
  try {
    for (const dataset of await listDatasets(api)) {
      if (only.length && !only.includes(dataset.name)) continue;
      const directory = path.join(MODELS_DIR, dataset.model, dataset.version);
      if (!fs.existsSync(path.join(directory, EVAL_FILE))) {
        results.push({ dataset: dataset.name, skipped: `no ${EVAL_FILE} in ${directory}` });
        continue;
      }
      const rows = readEvalFile(directory, dataset.nodeTypes.length);
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
      const card = dataset.testMetrics;
      const aucDelta = card ? Math.abs(auc - card.auc) : null;
      if (aucDelta === null || aucDelta >= TOLERANCE) failed = true;
      results.push({
        dataset: dataset.name,
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
      });
    }
  } finally {
    await api.stop();
  }
  console.log(JSON.stringify({ bench: 'hypergraph AUC through the API', machine: machine(), tolerance: TOLERANCE, results }, null, 2));
  if (failed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
