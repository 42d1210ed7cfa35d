export * from './inference.module.js';
export * from './model-card.js';
export * from './model-registry.service.js';
export * from './session-options.js';
export { Tensor } from 'onnxruntime-node';
export * from './micro-batcher.js';
export * from './batched-inference.js';
