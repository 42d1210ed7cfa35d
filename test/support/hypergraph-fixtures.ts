import type { HypergraphSpec } from '../../libs/hypergraph/src/hypergraph-spec.js';

/** The GPS hypergraph's shape as its model card gives it: 146 users, 70 locations, 5 activities; triples. */
export const GPS_SPEC: HypergraphSpec = {
  dataset: 'gps',
  model: 'hypersagnn-gps',
  version: '1',
  nodeTypes: [
    { name: 'user', count: 146, offset: 0 },
    { name: 'location', count: 70, offset: 146 },
    { name: 'activity', count: 5, offset: 216 },
  ],
  minCandidateSize: 2,
  maxCandidateSize: 3,
  testMetrics: null,
};
