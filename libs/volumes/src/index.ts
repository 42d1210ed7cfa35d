export * from './kernels/components.js';
export * from './kernels/distance.js';
export * from './kernels/grid.js';
export * from './kernels/orientation.js';
export * from './kernels/resample.js';
export * from './kernels/statistics.js';
export * from './volume-io.js';
export * from './header-peek.js';
