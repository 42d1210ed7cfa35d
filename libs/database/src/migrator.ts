import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

/** The advisory lock key `prisma migrate` takes, so the two never migrate at the same time. */
const PRISMA_MIGRATE_LOCK = 72707369;

export type AppliedMigration = { name: string; checksum: string };

/** Migration folders in Prisma's layout, oldest first. */
export async function readMigrations(migrationsDir: string): Promise<{ name: string; sql: string; checksum: string }[]> {
  const entries = await fs.readdir(migrationsDir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await fs.readFile(path.join(migrationsDir, name, 'migration.sql'), 'utf8');
      // Prisma stores the SHA-256 of the script in hex: `prisma migrate deploy` compares it.
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/**
 * Applies pending migrations without Prisma's native schema engine (which cannot be downloaded
 * on machines without network). Each migration runs in its own transaction and is recorded in
 * `_prisma_migrations` with the same columns and checksum Prisma writes, so `prisma migrate
 * deploy` treats them as applied where the engine exists. A migration already applied whose file
 * has changed since is an error, as it is for Prisma.
 */
export async function applyMigrations(databaseUrl: string, migrationsDir: string, log: (msg: string) => void = () => {}): Promise<string[]> {
  const migrations = await readMigrations(migrationsDir);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
    );
    const done = new Map(rows.map((r) => [r.migration_name, r]));
    for (const migration of migrations) {
      const previous = done.get(migration.name);
      if (previous?.finished_at) {
        if (previous.checksum !== migration.checksum) {
          throw new Error(`Migration ${migration.name} was modified after it was applied (checksum differs)`);
        }
        continue;
      }
      if (previous) throw new Error(`Migration ${migration.name} failed earlier and needs manual resolution`);
      log(`applying migration ${migration.name}`);
      await client.query('BEGIN');
      try {
        const id = randomUUID();
        await client.query(
          'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
          [id, migration.checksum, migration.name],
        );
        await client.query(migration.sql);
        await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
        await client.query('COMMIT');
        applied.push(migration.name);
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK]).catch(() => undefined);
    await client.end();
  }
  return applied;
}
