export * from './cascade-config.js';
export * from './cascade.js';
export * from './kernels/tiles.js';
export * from './preview.js';
export * from './segmentation-params.js';
export * from './segmentation-storage.js';
export * from './segmentation.handler.js';
export * from './segmentation.module.js';
