import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PrismaService, applyMigrations, projectRoot, readMigrations } from '@lumen/database';
import { createDatabase, tempDir } from './support/lumen.js';

const MIGRATIONS = path.join(projectRoot(), 'prisma', 'migrations');

describe('migrations and the generated Prisma client', () => {
  let url: string;
  let prisma: PrismaService;

  beforeAll(async () => {
    url = await createDatabase();
    await applyMigrations(url, MIGRATIONS);
    prisma = new PrismaService({ url, embedded: false, stop: async () => {} });
  });

  afterAll(async () => {
    await prisma?.$disconnect();
  });

  it('records every migration the way prisma migrate deploy does, and re-running applies nothing', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name');
    await client.end();
    const expected = await readMigrations(MIGRATIONS);
    expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(expected.map((m) => [m.name, m.checksum]));
    expect(rows.every((r) => r.finished_at !== null && r.applied_steps_count === 1)).toBe(true);
    expect(await applyMigrations(url, MIGRATIONS)).toEqual([]);
  });

  it('refuses a migration edited after it was applied', async () => {
    const dir = tempDir('lumen-migrations-');
    fs.cpSync(MIGRATIONS, dir, { recursive: true });
    const first = (await readMigrations(dir))[0].name;
    fs.appendFileSync(path.join(dir, first, 'migration.sql'), '\n-- edited\n');
    await expect(applyMigrations(url, dir)).rejects.toThrow(/modified after it was applied/);
  });

  it('creates, reads, updates and deletes a Job', async () => {
    const id = '5b0a4c1f-0b6f-4f4e-9d55-2f5644d33e00';
    const created = await prisma.job.create({ data: { id, kind: 'diagnostic', owner: 'ops', params: { durationMs: 5 } } });
    expect(created).toMatchObject({ status: 'queued', progress: 0, attempts: 0, result: null, error: null, startedAt: null });
    const updated = await prisma.job.update({
      where: { id },
      data: { status: 'succeeded', progress: 1, stage: 'done', attempts: 1, result: { ok: true }, startedAt: new Date(), finishedAt: new Date() },
    });
    expect(updated.result).toEqual({ ok: true });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    expect(await prisma.job.count({ where: { status: 'succeeded', kind: 'diagnostic' } })).toBe(1);
    await prisma.job.delete({ where: { id } });
    expect(await prisma.job.findUnique({ where: { id } })).toBeNull();
  });
});
