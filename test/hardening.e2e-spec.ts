// Issue 15's hardening, against the real built API: failed authentication throttled per client
// address (and never logged with the secret), multipart bodies capped while streaming whether
// chunked or not, the admin key shown only on a terminal and refused when its file is not
// private, short secrets refused, and the e2e databases dropped after each suite.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { dropTestDatabases } from './support/postgres.mjs';
import { type RawAnswer, type RawRequest, rawRequest } from './support/raw-http.js';
import { API_READY_MS, KEYS, type LumenProcess, ROOT, createDatabase, freePort, spawnLumen, startApi, tempDir, waitFor } from './support/lumen.js';

type Answer = RawAnswer;

/** A request from `localAddress` when given, streaming `chunks` (2 ms apart) until the answer comes. */
const request = (base: string, options: RawRequest) => rawRequest(base, { chunkDelayMs: options.chunks ? 2 : undefined, ...options });

const problemType = (answer: Answer) => (JSON.parse(answer.body) as { type: string }).type.replace('urn:lumen:problem:', '');
/** Every file under `dir` (directories themselves are not listed). */
const filesUnder = (dir: string) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => !entry.isDirectory())
        .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    : [];

describe('hardening (real API process, real PostgreSQL)', () => {
  const UPLOAD_MAX_BYTES = 4 * 1024 * 1024;
  let api: LumenProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDir();
    api = await startApi({
      DATABASE_URL: await createDatabase(),
      DATA_DIR: dataDir,
      MODELS_DIR: path.join(dataDir, 'no-models'),
      UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES),
      AUTH_FAILURES_PER_MINUTE: '5',
      LOG_LEVEL: 'info',
    });
  }, API_READY_MS + 30_000);
  afterAll(async () => {
    await api?.stop();
  });

  describe('failed authentication', () => {
    const guesses = Array.from({ length: 5 }, (_, i) => `guess-${String(i).padStart(12, '0')}-secret`);

    it('closes an address after 5 unknown keys a minute, even to a right key; other addresses go on; no secret in the log', async () => {
      for (const guess of guesses) {
        const answer = await request(api.url, { path: '/jobs', headers: { 'x-api-key': guess } });
        expect([answer.status, problemType(answer)]).toEqual([401, 'unknown-api-key']);
      }
      const closed = await request(api.url, { path: '/jobs', headers: { 'x-api-key': KEYS.admin } });
      expect([closed.status, problemType(closed)]).toEqual([429, 'too-many-failed-authentications']);
      expect(Number(closed.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(closed.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(JSON.parse(closed.body).detail).toContain('this address');
      // The same key from another loopback address is served.
      const other = await request(api.url, { path: '/jobs', headers: { 'x-api-key': KEYS.admin }, localAddress: '127.0.0.2' });
      expect(other.status).toBe(200);
      // Each failure was logged, naming the address, never the secret presented.
      await waitFor('failure log lines', async () => (api.output().match(/Unknown API key from 127\.0\.0\.1/g)?.length ?? 0) >= guesses.length, 10_000);
      for (const secret of [...guesses, KEYS.admin]) expect(api.output()).not.toContain(secret);
    });
  });

  describe('multipart bodies over UPLOAD_MAX_BYTES + 1 MiB, sent chunked', () => {
    const boundary = 'lumen-hardening';
    /** `files` image parts of `bytes` each (DICOM slices, say), in 64 KiB chunks, then the closing boundary. */
    function* manyFiles(files: number, bytes: number): Generator<Buffer> {
      const chunk = Buffer.alloc(64 * 1024, 3);
      for (let i = 0; i < files; i++) {
        yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="slice-${i}.dcm"\r\nContent-Type: application/dicom\r\n\r\n`);
        for (let sent = 0; sent < bytes; sent += chunk.length) yield chunk;
        yield Buffer.from('\r\n');
      }
      yield Buffer.from(`--${boundary}--\r\n`);
    }
    function* junk(bytes: number): Generator<Buffer> {
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      for (let sent = 0; sent < bytes; sent += chunk.length) yield chunk;
    }
    const headers = { 'x-api-key': KEYS.segment, 'content-type': `multipart/form-data; boundary=${boundary}` };

    it.each([
      // The files' total (UPLOAD_MAX_BYTES) trips first; the body's (+1 MiB) where no file streams.
      ['many files, each under the file limit', () => manyFiles(40, 512 * 1024), 40 * 512 * 1024, UPLOAD_MAX_BYTES],
      ['a preamble that never reaches a part', () => junk(4 * UPLOAD_MAX_BYTES), 4 * UPLOAD_MAX_BYTES, UPLOAD_MAX_BYTES + 1024 * 1024],
    ])('answers 413 upload-too-large to %s while the client is still sending, and keeps no file', async (_what, chunks, total, maxBytes) => {
      const before = filesUnder(dataDir);
      // From an address of its own: 127.0.0.1 is closed by the failed-authentication test.
      const answer = await request(api.url, { method: 'POST', path: '/segmentations', headers, chunks: chunks(), localAddress: '127.0.0.3' });
      expect([answer.status, problemType(answer)]).toEqual([413, 'upload-too-large']);
      expect(JSON.parse(answer.body).maxBytes).toBe(maxBytes);
      expect(answer.bytesSent).toBeLessThan(total);
      expect(filesUnder(path.join(dataDir, 'tmp'))).toEqual([]);
      expect(filesUnder(dataDir)).toEqual(before);
      expect((await fetch(`${api.url}/health/ready`)).status).toBe(200);
    });
  });
});

describe('the admin key and secrets at start-up', () => {
  const startupEnv = async (dataDir: string) => ({ DATABASE_URL: await createDatabase(), DATA_DIR: dataDir, MODELS_DIR: path.join(dataDir, 'no-models'), API_KEYS: '', PORT: String(await freePort()), HOST: '127.0.0.1' });

  it('shows a new key on a terminal only, and refuses to start on a key file others may read, naming the fix', async () => {
    const dataDir = tempDir();
    const env = await startupEnv(dataDir);
    const keyFile = path.join(dataDir, 'admin.key');
    // `script` gives the process a pseudo-terminal: stdout.isTTY, as for a person running npm start.
    const onTerminal: ChildProcess = spawn('script', ['-qec', `exec ${process.execPath} ${path.join(ROOT, 'dist/apps/api/src/main.js')}`, '/dev/null'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', INFERENCE_THREADS: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    onTerminal.stdout!.on('data', (chunk) => (output += chunk));
    onTerminal.stderr!.on('data', (chunk) => (output += chunk));
    try {
      await waitFor(`the key on the terminal (output:\n${output})`, async () => fs.existsSync(keyFile) && output.includes('X-API-Key:'), API_READY_MS);
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(output).toContain(fs.readFileSync(keyFile, 'utf8').trim());
    } finally {
      process.kill(-onTerminal.pid!, 'SIGTERM');
      await new Promise((r) => (onTerminal.exitCode !== null ? r(null) : onTerminal.once('exit', r)));
    }

    fs.chmodSync(keyFile, 0o644);
    const refused = spawnLumen('api', { ...env, PORT: String(await freePort()) });
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toContain(`chmod 600 ${keyFile}`);
    expect(refused.output()).not.toContain(fs.readFileSync(keyFile, 'utf8').trim());
  }, 2 * API_READY_MS);

  it('refuses a configured secret shorter than 16 characters, naming API_KEYS', async () => {
    const dataDir = tempDir();
    const refused = spawnLumen('api', { ...(await startupEnv(dataDir)), API_KEYS: 'ops:fifteen-chars-a:admin' });
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toMatch(/API_KEYS: .*at least 16 characters \(got 15\)/);
  }, 60_000);
});

describe('test databases', () => {
  it('are registered for dropping when the suite ends, and dropped even with a connection open', async () => {
    const url = await createDatabase();
    const name = new URL(url).pathname.slice(1);
    expect((globalThis as { __LUMEN_TEST_DATABASES__?: string[] }).__LUMEN_TEST_DATABASES__).toContain(name);
    const lingering = new pg.Client({ connectionString: url });
    await lingering.connect();
    lingering.on('error', () => undefined); // terminated by the drop
    await dropTestDatabases(process.env.LUMEN_TEST_SERVER_URL!, [name]);
    const server = new pg.Client({ connectionString: process.env.LUMEN_TEST_SERVER_URL });
    await server.connect();
    try {
      expect((await server.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount).toBe(0);
    } finally {
      await server.end();
      await lingering.end().catch(() => undefined);
    }
    await expect(dropTestDatabases(process.env.LUMEN_TEST_SERVER_URL!, ['postgres'])).rejects.toThrow('refusing to drop');
  });
});
