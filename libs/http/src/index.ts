export * from './auth.js';
export * from './http.module.js';
export * from './logger.js';
export * from './problem.filter.js';
export * from './problem.js';
export * from './validation.js';
export * from './shutdown.js';
export * from './uploads.js';
