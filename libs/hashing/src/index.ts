export * from './kernels/codes.js';
export * from './kernels/hamming.js';
export * from './kernels/popcount.js';
export * from './hamming-index.js';
export * from './hashing.module.js';
export * from './image-hasher.service.js';
export * from './image-preprocessing.js';
export * from './kernels/hamming-wasm.js';
