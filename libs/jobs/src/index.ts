export * from './diagnostic.handler.js';
export * from './job-handler.js';
export * from './job-kind.js';
export * from './job-queue.service.js';
export * from './job-worker.service.js';
export * from './jobs.module.js';
export * from './jobs.service.js';
