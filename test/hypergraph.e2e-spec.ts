import fs from 'node:fs';
import path from 'node:path';
import { type EvalRows, type NodeTypeSpec, averagePrecision, plantOutsiders, readEvalFile, rocAuc } from '@lumen/hypergraph';
import { type LumenApi, lumenApi, ok, problem } from './support/api.js';
import { readAllEdges, servedModelDir } from './support/hypergraph-data.js';
import { API_READY_MS, KEYS, type LumenProcess, ROOT, SHARED_DATA, client, createDatabase, startApi, tempDir } from './support/lumen.js';

const MODEL_DIR = servedModelDir(process.env.MODELS_DIR ?? path.join(ROOT, 'models'), 'hypersagnn-gps');
const card = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'card.json'), 'utf8')) as {
  version: string;
  preprocessing: { nodeTypes: NodeTypeSpec[] };
  metrics: { test: { auc: number; aupr: number } };
};
const TYPES = card.preprocessing.nodeTypes;

type Node = { type: string; id: number };
type Problem = { status: number; type: string; detail: string; errors?: { field: string; message: string }[] };

const node = (t: number, id: number): Node => ({ type: TYPES[t].name, id });
const user = (id: number) => node(0, id);
const location = (id: number) => node(1, id);
const activity = (id: number) => node(2, id);

/** Row `row` of the eval file as typed nodes. */
function evalCandidate(rows: EvalRows, row: number): Node[] {
  return TYPES.map((_, t) => node(t, rows.ids[row * TYPES.length + t]));
}

async function problemOf(response: Response, status: number): Promise<Problem> {
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const body = (await response.json()) as Problem;
  expect({ status: response.status, body }).toMatchObject({ status, body: { status } });
  return body;
}

describe('hypergraph hyperedge prediction (real API process, hypersagnn-gps)', () => {
  let api: LumenProcess;
  let graph: ReturnType<typeof client>;
  let hyper: LumenApi;
  let rows: EvalRows;

  beforeAll(async () => {
    rows = readEvalFile(MODEL_DIR, TYPES.length);
    // A long batching window, so that concurrent requests surely meet in one batch.
    api = await startApi({ DATABASE_URL: await createDatabase(), DATA_DIR: tempDir(), MODELS: 'hypersagnn-gps', INFERENCE_BATCH_WAIT_MS: '100' });
    graph = client(api.url, KEYS.hypergraph);
    hyper = lumenApi(api.url, KEYS.hypergraph);
  }, API_READY_MS + 60_000);

  afterAll(async () => {
    await api?.stop();
  });

  const score = async (hyperedges: Node[][]): Promise<number[]> => (await ok(hyper.POST('/hypergraphs/{name}/score', { params: { path: { name: 'gps' } }, body: { hyperedges } }), 200)).scores;

  it('lists the dataset with its node types, candidate sizes, model and test metrics', async () => {
    expect(await ok(hyper.GET('/hypergraphs'), 200)).toEqual([
      {
        name: 'gps',
        model: 'hypersagnn-gps',
        version: card.version,
        ready: true,
        nodeTypes: [
          { name: 'user', count: 146 },
          { name: 'location', count: 70 },
          { name: 'activity', count: 5 },
        ],
        nodeCount: 221,
        minCandidateSize: 2,
        maxCandidateSize: 3,
        testMetrics: expect.objectContaining({ auc: card.metrics.test.auc, aupr: card.metrics.test.aupr }),
      },
    ]);
    await ok(hyper.GET('/hypergraphs/{name}', { params: { path: { name: 'gps' } } }), 200);
    await problem(lumenApi(api.url, KEYS.search).GET('/hypergraphs'), 403);
    await problem(lumenApi(api.url).GET('/hypergraphs'), 401);
    const spec = await (await fetch(`${api.url}/docs/openapi.json`)).json();
    expect(spec.paths['/hypergraphs/{name}/score'].post.operationId).toBe('scoreHyperedges');
    expect(spec.components.schemas.OutsiderMethod.enum).toEqual(['leave-one-out']);
  });

  it('pages through the node ids of a type', async () => {
    const page = (query: { type: string; offset?: number; limit?: number }) => ok(hyper.GET('/hypergraphs/{name}/nodes', { params: { path: { name: 'gps' }, query } }), 200);
    expect(await page({ type: 'location', offset: 65, limit: 10 })).toEqual({ type: 'location', total: 70, offset: 65, limit: 10, ids: [65, 66, 67, 68, 69] });
    const first = await page({ type: 'activity' });
    expect(first).toEqual({ type: 'activity', total: 5, offset: 0, limit: 100, ids: [0, 1, 2, 3, 4] });
    expect((await problemOf(await graph.get('/hypergraphs/gps/nodes?type=place'), 400)).detail).toContain('unknown node type "place" (gps has user, location, activity)');
    await problemOf(await graph.get('/hypergraphs/gps/nodes?type=user&limit=0'), 400);
    await problemOf(await graph.get('/hypergraphs/gps/nodes'), 400);
    await problemOf(await graph.get('/hypergraphs/nope/nodes?type=user'), 404);
  });

  it("reproduces the card's test AUC and AUPR on its exact candidates through the API", async () => {
    const candidates = Array.from({ length: rows.rows }, (_, row) => evalCandidate(rows, row));
    expect(candidates.length).toBeLessThanOrEqual(4096);
    const scores = Float64Array.from(await score(candidates));
    expect(scores.length).toBe(rows.rows);
    const auc = rocAuc(scores, rows.labels);
    expect(Math.abs(auc - card.metrics.test.auc)).toBeLessThan(0.005);
    expect(Math.abs(averagePrecision(scores, rows.labels) - card.metrics.test.aupr)).toBeLessThan(0.005);
    const mean = (label: number) => scores.filter((_, i) => rows.labels[i] === label).reduce((a, b) => a + b, 0) / rows.labels.filter((l) => l === label).length;
    expect(mean(1)).toBeGreaterThan(mean(0));
  });

  it('scores candidates of different sizes in one request, padding without changing any score', async () => {
    const pair = [user(86), location(4)];
    const triples = [evalCandidate(rows, 0), evalCandidate(rows, 6), evalCandidate(rows, 12)];
    const [alone] = await score([pair]);
    const mixed = await score([triples[0], pair, triples[1], [location(4), activity(4)], triples[2]]);
    expect(mixed).toHaveLength(5);
    for (const s of mixed) expect(s).toBeGreaterThan(0), expect(s).toBeLessThan(1);
    expect(Math.abs(mixed[1] - alone)).toBeLessThan(1e-5);
    const triplesAlone = await Promise.all(triples.map(async (t) => (await score([t]))[0]));
    expect(Math.abs(mixed[0] - triplesAlone[0])).toBeLessThan(1e-5);
    expect(Math.abs(mixed[4] - triplesAlone[2])).toBeLessThan(1e-5);
    // Node order within a candidate does not matter (self-attention is permutation-equivariant).
    const [reordered] = await score([[triples[0][2], triples[0][0], triples[0][1]]]);
    expect(Math.abs(reordered - triplesAlone[0])).toBeLessThan(1e-5);
  });

  it('micro-batches concurrent requests into fewer inferences, each getting its own scores', async () => {
    const inferences = async () => {
      const text = await (await client(api.url, KEYS.admin).get('/metrics')).text();
      return Number(/lumen_inference_duration_seconds_count\{model="hypersagnn-gps"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const candidates = Array.from({ length: 24 }, (_, i) => evalCandidate(rows, i));
    const reference = await score(candidates);
    const before = await inferences();
    const concurrent = await Promise.all(candidates.map(async (c) => (await score([c]))[0]));
    const used = (await inferences()) - before;
    concurrent.forEach((s, i) => expect(Math.abs(s - reference[i])).toBeLessThan(1e-5));
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(candidates.length);
  });

  it('names a planted outsider (leave-one-out) far more often than chance', async () => {
    // The cases of bench/hypergraph/outsiders-through-api.ts: test positives with one node swapped
    // for a same-type node that shares no train or test hyperedge with the other two.
    const positives: number[] = [];
    for (let row = 0; row < rows.rows; row++) if (rows.labels[row] === 1) positives.push(...rows.ids.subarray(row * TYPES.length, (row + 1) * TYPES.length));
    const cases = plantOutsiders(Int32Array.from(positives), readAllEdges(SHARED_DATA, 'gps'), TYPES.map((t) => t.count), 40).map((c) => ({
      candidate: Array.from(c.ids, (id, t) => node(t, id)),
      planted: c.planted,
    }));
    expect(cases.length).toBe(40);
    const answers = await Promise.all(cases.map(({ candidate }) => ok(hyper.POST('/hypergraphs/{name}/outsiders', { params: { path: { name: 'gps' } }, body: { hyperedge: candidate } }), 200)));
    const [first] = answers;
    expect(first.method).toBe('leave-one-out');
    expect(first.nodes.map(({ type, id }) => ({ type, id }))).toEqual(cases[0].candidate);
    const [whole] = await score([cases[0].candidate]);
    expect(Math.abs(first.score - whole)).toBeLessThan(1e-5);
    for (const n of first.nodes) expect(Math.abs(n.outsiderScore - (n.scoreWithout - first.score))).toBeLessThan(1e-6);
    const hits = answers.filter((a, i) => a.outsiderIndex === cases[i].planted).length;
    // bench/hypergraph/outsiders-through-api.ts (docs/hypergraph.md): 0.86 on all 86 gps cases with
    // version 2, 38/40 on these; 1 − p_i 0.55, chance 1/3. Version 1 named 0.81 of its 104 cases. 0.7 is
    // about 0.82 (version 1's earlier figure) less two standard errors of a 40-case rate.
    expect(hits / cases.length).toBeGreaterThanOrEqual(0.7);
  });

  describe('rejects bad input with problem+json naming the candidate and node', () => {
    const good = [user(1), location(2), activity(3)];
    const bad = async (hyperedges: unknown, status: number, route = 'score', key = 'hyperedges') =>
      problemOf(await graph.post(`/hypergraphs/gps/${route}`, { [key]: hyperedges }), status);

    it('unknown dataset', async () => {
      const problem = await problemOf(await graph.post('/hypergraphs/nope/score', { hyperedges: [good] }), 404);
      expect(problem.detail).toBe('No hypergraph dataset "nope" (served: gps)');
      await problemOf(await graph.post('/hypergraphs/nope/outsiders', { hyperedge: good }), 404);
      await problemOf(await graph.get('/hypergraphs/nope'), 404);
    });

    it('unknown node type', async () => {
      const problem = await bad([good, [{ type: 'place', id: 1 }, user(1)]], 422);
      expect(problem.detail).toBe('hyperedges[1][0]: unknown node type "place" (gps has user, location, activity)');
      expect(problem.errors).toEqual([{ field: 'hyperedges[1][0].type', message: problem.detail }]);
    });

    it('ids out of range: too large, negative, not an integer', async () => {
      const candidates = [good, good, good, [location(1), user(146)]];
      expect((await bad(candidates, 422)).detail).toBe('hyperedges[3][1]: id 146 is out of range for type user (0..145)');
      expect((await bad([good, [user(0), location(-1)]], 422)).detail).toBe('hyperedges[1][1]: id -1 is out of range for type location (0..69)');
      const fractional = await bad([[user(1), { type: 'location', id: 2.5 }]], 400);
      expect(fractional.detail).toBe('hyperedges[0][1]: id must be an integer (got 2.5)');
      expect(fractional.errors![0].field).toBe('hyperedges[0][1].id');
      expect((await bad([[user(1), { type: 'location', id: '2' }]], 400)).detail).toBe('hyperedges[0][1]: id must be an integer (got "2")');
    });

    it('candidate sizes: fewer than 2 nodes, more than the maximum', async () => {
      expect((await bad([good, [user(1)]], 422)).detail).toBe('hyperedges[1]: has 1 node(s); gps candidates need 2..3');
      expect((await bad([[]], 422)).detail).toBe('hyperedges[0]: has 0 node(s); gps candidates need 2..3');
      expect((await bad([[...good, user(2)]], 422)).detail).toBe('hyperedges[0]: has 4 node(s); gps candidates need 2..3');
    });

    it('the same node twice', async () => {
      expect((await bad([good, [user(7), location(2), user(7)]], 422)).detail).toBe('hyperedges[1][2]: user 7 appears twice (also at hyperedges[1][0])');
    });

    it('too many candidates, or none', async () => {
      const problem = await bad(Array.from({ length: 4097 }, () => good), 400);
      expect(problem.errors).toEqual([{ field: 'hyperedges', message: 'hyperedges must contain no more than 4096 elements' }]);
      expect((await bad([], 400)).errors![0].field).toBe('hyperedges');
      expect(await score(Array.from({ length: 4096 }, () => good))).toHaveLength(4096);
    });

    it('wrong JSON shapes: not arrays, missing and extra fields, not JSON', async () => {
      expect((await bad({ 0: good }, 400)).errors![0].field).toBe('hyperedges');
      expect((await problemOf(await graph.post('/hypergraphs/gps/score', {}), 400)).errors!.map((e) => e.field)).toContain('hyperedges');
      expect((await bad([good, user(1)], 400)).detail).toBe('hyperedges[1]: must be an array of {type, id} nodes');
      expect((await bad([[user(1), 5]], 400)).detail).toBe('hyperedges[0][1]: must be an object {type, id}');
      const missing = await bad([good, [user(1), { type: 'location' }]], 400);
      expect(missing.detail).toBe('hyperedges[1][1]: id must be an integer');
      expect(missing.errors).toEqual([{ field: 'hyperedges[1][1].id', message: 'hyperedges[1][1]: id must be an integer' }]);
      expect((await bad([[user(1), { id: 3 }]], 400)).detail).toBe('hyperedges[0][1]: type must be a string');
      const extra = await bad([[user(1), { ...location(3), weight: 2 }]], 400);
      expect(extra.errors).toEqual([{ field: 'hyperedges[0][1].weight', message: 'hyperedges[0][1]: unknown field "weight" (a node has only type and id)' }]);
      const topLevel = await problemOf(await graph.post('/hypergraphs/gps/score', { hyperedges: [good], model: 'x' }), 400);
      expect(topLevel.errors!.map((e) => e.field)).toEqual(['model']);
      const notJson = await fetch(`${api.url}/hypergraphs/gps/score`, { method: 'POST', headers: { 'x-api-key': KEYS.hypergraph, 'content-type': 'application/json' }, body: '{"hyperedges": [' });
      await problemOf(notJson, 400);
    });

    it('lists every error of a request at once (shape errors make it a 400)', async () => {
      const problem = await bad([[user(200), location(1)], [user(1), { type: 'location' }], good], 400);
      expect(problem.errors!.map((e) => e.field)).toEqual(['hyperedges[0][0].id', 'hyperedges[1][1].id']);
    });

    it('outsiders: too few nodes, bad nodes, wrong shape', async () => {
      expect((await bad([user(1), location(1)], 422, 'outsiders', 'hyperedge')).detail).toBe('hyperedge: has 2 node(s); gps candidates need 3');
      expect((await bad([user(1), location(70), activity(0)], 422, 'outsiders', 'hyperedge')).detail).toBe('hyperedge[1]: id 70 is out of range for type location (0..69)');
      expect((await bad([user(1), location(1), user(1)], 422, 'outsiders', 'hyperedge')).detail).toBe('hyperedge[2]: user 1 appears twice (also at hyperedge[0])');
      expect((await bad('user 1', 400, 'outsiders', 'hyperedge')).errors![0].field).toBe('hyperedge');
      expect((await problemOf(await graph.post('/hypergraphs/gps/outsiders', { hyperedges: [good] }), 400)).errors!.map((e) => e.field).sort()).toEqual(['hyperedge', 'hyperedges']);
    });
  });
});
