import fs from 'node:fs';
import path from 'node:path';
import { API_READY_MS, client, freePort, startApi, tempDir } from './support/lumen.js';

describe('embedded PostgreSQL default (DATABASE_URL unset)', () => {
  it('starts its own database, creates an admin key once, and keeps data across restarts', async () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, MODELS_DIR: path.join(dataDir, 'no-models'), EMBEDDED_PG_PORT: String(await freePort()), API_KEYS: '' };
    let api = await startApi(env);
    try {
      const keyFile = path.join(dataDir, 'admin.key');
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
      const key = fs.readFileSync(keyFile, 'utf8').trim();
      // Not a terminal (piped output): the log names the file, never the key.
      expect(api.output()).not.toContain(key);
      expect(api.output()).toContain(keyFile);
      const created = await (await client(api.url, key).post('/jobs/diagnostics', { durationMs: 0, steps: 1 })).json();
      expect(await api.stop()).toBe(0);

      api = await startApi(env);
      expect(api.output()).not.toContain(key);
      const job = await (await client(api.url, key).get(`/jobs/${created.id}`)).json();
      expect(job.id).toBe(created.id);
    } finally {
      expect(await api.stop()).toBe(0);
    }
  }, 2 * API_READY_MS + 60_000); // two starts
});
