export * from './database.module.js';
export * from './embedded-postgres.js';
export * from './migrator.js';
export * from './prisma.service.js';
export * from './project-root.js';
export { Prisma } from './generated/prisma/client.js';
export type { Job } from './generated/prisma/client.js';
export { JobStatus } from './generated/prisma/enums.js';
