// One PostgreSQL server for the e2e run: DATABASE_URL's when set, else an embedded one in a
// temporary directory. Each test file then creates its own fresh database on it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startThrowawayPostgres } from './support/postgres.mjs';

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.LUMEN_TEST_SERVER_URL = process.env.DATABASE_URL;
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-test-pg-'));
  const { server, url } = await startThrowawayPostgres({ dir, password: 'lumen-test', maxConnections: 300 });
  process.env.LUMEN_TEST_SERVER_URL = url;
  globalThis.__LUMEN_TEST_PG__ = { server, dir };
}
