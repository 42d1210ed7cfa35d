import path from 'node:path';
import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { applyMigrations } from './migrator.js';
import { DATABASE_CONNECTION, type DatabaseConnection, PrismaService } from './prisma.service.js';
import { projectRoot } from './project-root.js';

const logger = new Logger('Database');

/** Resolves the server (DATABASE_URL or embedded) and brings its schema up to date. */
export async function connectDatabase(config: LumenConfig): Promise<DatabaseConnection> {
  const log = (msg: string) => logger.log(msg);
  const connection: DatabaseConnection = config.databaseUrl
    ? { url: config.databaseUrl, embedded: false, stop: async () => {} }
    : { ...(await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, log)), embedded: true };
  const applied = await applyMigrations(connection.url, path.join(projectRoot(), 'prisma', 'migrations'), log);
  if (applied.length) log(`applied ${applied.length} migration(s)`);
  return connection;
}

@Global()
@Module({
  providers: [
    { provide: DATABASE_CONNECTION, inject: [CONFIG], useFactory: (config: LumenConfig) => connectDatabase(config) },
    PrismaService,
  ],
  exports: [PrismaService, DATABASE_CONNECTION],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE_CONNECTION) private readonly connection: DatabaseConnection) {}

  async onApplicationShutdown(): Promise<void> {
    // Runs after every module's onModuleDestroy, so Prisma and the queue have disconnected.
    await this.connection.stop();
  }
}
