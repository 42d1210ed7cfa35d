export * from './collection-feed.js';
export * from './collection.js';
export * from './collection-indexes.js';
export * from './collections.module.js';
export * from './collections.repository.js';
export * from './collections.service.js';
