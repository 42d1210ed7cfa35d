import type { ModelCard } from '@lumen/inference';
import { datasetName, hypergraphSpecFromCard } from './hypergraph-spec.js';

const card = (preprocessing: Record<string, unknown>, metrics?: Record<string, unknown>): ModelCard => ({
  name: 'hypersagnn-gps',
  version: '1',
  task: 'hyperedge-prediction',
  inputs: [],
  outputs: [],
  preprocessing,
  metrics,
});

describe('hypergraphSpecFromCard', () => {
  it('reads node types, candidate sizes and test metrics', () => {
    const spec = hypergraphSpecFromCard(
      card({ nodeTypes: [{ name: 'user', count: 3, offset: 0 }, { name: 'item', count: 2, offset: 3 }], minCandidateSize: 2, maxCandidateSize: 2 }, { test: { auc: 0.9, aupr: 0.6 } }),
      'hypersagnn-gps',
      '1',
    );
    expect(spec).toEqual({
      dataset: 'gps',
      model: 'hypersagnn-gps',
      version: '1',
      nodeTypes: [{ name: 'user', count: 3, offset: 0 }, { name: 'item', count: 2, offset: 3 }],
      minCandidateSize: 2,
      maxCandidateSize: 2,
      testMetrics: { auc: 0.9, aupr: 0.6, positives: null, negativesPerPositive: null },
    });
  });

  it('names every problem of a malformed card', () => {
    expect(() => hypergraphSpecFromCard(card({ nodeTypes: [{ name: 'user', count: 0, offset: 0 }], minCandidateSize: 1, maxCandidateSize: 3 }), 'hypersagnn-x', '1')).toThrow(
      'model hypersagnn-x: preprocessing.nodeTypes[0] must be {name, count ≥ 1, offset ≥ 0}; preprocessing.minCandidateSize must be an integer ≥ 2',
    );
    expect(() => hypergraphSpecFromCard(card({}), 'hypersagnn-x', '1')).toThrow('nodeTypes must be a non-empty list');
  });

  it('drops the hypersagnn- prefix from dataset names only', () => {
    expect(datasetName('hypersagnn-movielens')).toBe('movielens');
    expect(datasetName('custom')).toBe('custom');
  });
});
