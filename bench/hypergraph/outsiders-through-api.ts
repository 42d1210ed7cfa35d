/**
 * Outsider identification on planted outsiders, through POST /hypergraphs/{name}/outsiders, for
 * every served dataset (the table in docs/hypergraph.md). A case is a true test hyperedge of the
 * model's test-eval.bin.gz with one node replaced by a same-type node that shares no hyperedge of
 * the dataset's train or test files with the other nodes (`plantOutsiders`, libs/hypergraph).
 * Compared: the API's leave-one-out answer, the node with the lowest p_i (1 − p_i) and the node
 * with the highest p_i. Chance is 1 / (nodes per candidate).
 *
 *   npm run build && node dist/bench/hypergraph/outsiders-through-api.js [--cases 200] [dataset ...]
 *
 * Talks to LUMEN_URL when set, else starts the built API (see api-process.ts).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EVAL_FILE, argExtreme, hitRate, plantOutsiders, readEvalFile } from '@lumen/hypergraph';
import { readAllEdges } from '../../test/support/hypergraph-data.js';
import { type Api, MODELS_DIR, ROOT, listDatasets, machine, startApi } from './api-process.js';

const { values: args, positionals: only } = parseArgs({ options: { cases: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '8' } }, allowPositionals: true });
const SHARED_DATA = path.resolve(ROOT, '..', 'shared', 'data');

type Answer = { outsiderIndex: number; nodes: { probability: number }[] };

async function outsider(api: Api, dataset: string, hyperedge: { type: string; id: number }[]): Promise<Answer> {
  const response = await fetch(`${api.url}/hypergraphs/${dataset}/outsiders`, {
    method: 'POST',
    headers: { 'x-api-key': api.key, 'content-type': 'application/json' },
    body: JSON.stringify({ hyperedge }),
  });
  if (!response.ok) throw new Error(`POST /hypergraphs/${dataset}/outsiders: ${response.status} ${await response.text()}`);
  return (await response.json()) as Answer;
}

/** Runs `work` on every item, at most `limit` at a time, keeping the order. */
async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  }));
  return results;
}

async function main(): Promise<void> {
  const api = await startApi(only.length ? only.map((d) => `hypersagnn-${d}`) : undefined);
  const results: Record<string, unknown>[] = [];
  try {
    for (const dataset of await listDatasets(api)) {
      if (only.length && !only.includes(dataset.name)) continue;
      const types = dataset.nodeTypes.length;
      const rows = readEvalFile(path.join(MODELS_DIR, dataset.model, dataset.version), types);
      const positives: number[] = [];
      for (let row = 0; row < rows.rows; row++) if (rows.labels[row] === 1) positives.push(...rows.ids.subarray(row * types, (row + 1) * types));
      const cases = plantOutsiders(Int32Array.from(positives), readAllEdges(SHARED_DATA, dataset.name), dataset.nodeTypes.map((t) => t.count), Number(args.cases));
      const answers = await mapLimited(cases, Number(args.concurrency), (c) =>
        outsider(api, dataset.name, Array.from(c.ids, (id, t) => ({ type: dataset.nodeTypes[t].name, id }))),
      );
      const planted = cases.map((c) => c.planted);
      const rate = (chosen: number[]) => Number(hitRate(chosen, planted).toFixed(3));
      results.push({
        dataset: dataset.name,
        model: `${dataset.model} v${dataset.version}`,
        cases: cases.length,
        casesFrom: `the first ${cases.length ? cases[cases.length - 1].source + 1 : 0} positives of ${EVAL_FILE}`,
        chance: Number((1 / types).toFixed(3)),
        leaveOneOut: rate(answers.map((a) => a.outsiderIndex)),
        lowestProbability: rate(answers.map((a) => argExtreme(a.nodes.map((n) => n.probability), false))),
        highestProbability: rate(answers.map((a) => argExtreme(a.nodes.map((n) => n.probability), true))),
      });
    }
  } finally {
    await api.stop();
  }
  console.log(JSON.stringify({ bench: 'hypergraph planted-outsider identification through the API', machine: machine(), results }, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
