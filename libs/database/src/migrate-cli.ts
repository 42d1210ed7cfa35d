// `npm run db:migrate`: applies prisma/migrations to DATABASE_URL (or the embedded server).
import { ConfigError, loadConfig } from '@lumen/config';
import { connectDatabase } from './database.module.js';

try {
  const connection = await connectDatabase(loadConfig());
  console.log(`database schema is up to date (${connection.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'})`);
  await connection.stop();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `migration failed: ${(error as Error).message}`);
  process.exit(1);
}
