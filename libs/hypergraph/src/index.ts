export * from './candidates.js';
export * from './eval-file.js';
export * from './hypergraph-spec.js';
export * from './hypergraph.module.js';
export * from './hypergraph.service.js';
export * from './kernels/eval-rows.js';
export * from './kernels/pack-candidates.js';
export * from './kernels/ranking-metrics.js';
