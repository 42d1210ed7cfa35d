export * from './api-keys.js';
export * from './config.js';
export * from './config.module.js';
