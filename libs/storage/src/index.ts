export * from './file-system-storage.js';
export * from './storage.js';
export * from './storage.module.js';
