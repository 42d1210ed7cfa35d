import type { ModelCard } from '@lumen/inference';

/** The task name in card.json of every Hyper-SAGNN model. */
export const HYPEREDGE_TASK = 'hyperedge-prediction';
/** Model names are `hypersagnn-<dataset>`; the API names datasets without the prefix. */
export const MODEL_PREFIX = 'hypersagnn-';

export type NodeTypeSpec = {
  name: string;
  /** Per-type ids are 0..count-1. */
  count: number;
  /** Global index of per-type id 0 in the model's node table. */
  offset: number;
};

export type TestMetrics = { auc: number; aupr: number; positives: number | null; negativesPerPositive: number | null };

/** What a hyperedge model accepts, read from its card. */
export type HypergraphSpec = {
  dataset: string;
  model: string;
  version: string;
  nodeTypes: NodeTypeSpec[];
  minCandidateSize: number;
  maxCandidateSize: number;
  testMetrics: TestMetrics | null;
};

export function datasetName(modelName: string): string {
  return modelName.startsWith(MODEL_PREFIX) ? modelName.slice(MODEL_PREFIX.length) : modelName;
}

const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;

/** Reads `card.preprocessing` (nodeTypes, min/maxCandidateSize); throws naming what is wrong. */
export function hypergraphSpecFromCard(card: ModelCard, model: string, version: string): HypergraphSpec {
  const pre = (card.preprocessing ?? {}) as { nodeTypes?: unknown; minCandidateSize?: unknown; maxCandidateSize?: unknown };
  const problems: string[] = [];
  const nodeTypes: NodeTypeSpec[] = [];
  if (!Array.isArray(pre.nodeTypes) || pre.nodeTypes.length === 0) problems.push('preprocessing.nodeTypes must be a non-empty list');
  else {
    pre.nodeTypes.forEach((raw: unknown, i) => {
      const t = raw as Partial<NodeTypeSpec>;
      if (typeof t?.name !== 'string' || !t.name || !isCount(t.count) || t.count < 1 || !isCount(t.offset)) {
        problems.push(`preprocessing.nodeTypes[${i}] must be {name, count ≥ 1, offset ≥ 0}`);
      } else if (nodeTypes.some((other) => other.name === t.name)) {
        problems.push(`preprocessing.nodeTypes[${i}]: duplicate type name "${t.name}"`);
      } else nodeTypes.push({ name: t.name, count: t.count, offset: t.offset });
    });
  }
  const min = pre.minCandidateSize;
  const max = pre.maxCandidateSize;
  if (!isCount(min) || min < 2) problems.push('preprocessing.minCandidateSize must be an integer ≥ 2');
  if (!isCount(max) || (isCount(min) && max < min)) problems.push('preprocessing.maxCandidateSize must be an integer ≥ minCandidateSize');
  if (problems.length) throw new Error(`model ${model}: ${problems.join('; ')}`);

  const test = (card.metrics as { test?: Partial<TestMetrics> } | undefined)?.test;
  const testMetrics =
    typeof test?.auc === 'number' && typeof test?.aupr === 'number'
      ? { auc: test.auc, aupr: test.aupr, positives: test.positives ?? null, negativesPerPositive: test.negativesPerPositive ?? null }
      : null;
  return { dataset: datasetName(model), model, version, nodeTypes, minCandidateSize: min as number, maxCandidateSize: max as number, testMetrics };
}
