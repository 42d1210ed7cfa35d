// The API contract: the OpenAPI document the real service serves is the committed
// apps/api/openapi.json, it validates (swagger-parser) and lints clean (redocly, redocly.yaml),
// the committed TypeScript types are the ones it generates, and its security says what the
// service does (public operations answer without a key, scoped ones refuse other scopes).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { SPEC_FILE, TYPES_FILE, generateTypes } from '../scripts/openapi-types.mjs';
import { API_READY_MS, KEYS, type LumenProcess, ROOT, createDatabase, startApi, tempDir } from './support/lumen.js';

type Operation = { operationId: string; security?: unknown[]; 'x-required-scope'?: string };
type Document = { paths: Record<string, Record<string, Operation>>; servers: { url: string }[]; security: unknown[] };

const committed = JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8')) as Document;

/** Every operation of a document as [method, path template, operation]. */
function operations(document: Document): [string, string, Operation][] {
  return Object.entries(document.paths).flatMap(([route, item]) => Object.entries(item).map(([method, op]) => [method, route, op] as [string, string, Operation]));
}

/** A concrete URL for a path template (ids are UUIDs; names and versions any word). */
function concrete(route: string): string {
  return route.replace(/\{(id|imageId)\}/g, '00000000-0000-4000-8000-000000000000').replace(/\{[^}]+\}/g, 'x');
}

describe('the API contract (real API process)', () => {
  let api: LumenProcess;

  beforeAll(async () => {
    const dataDir = tempDir();
    // No models: the document does not depend on which models are served.
    api = await startApi({ DATABASE_URL: await createDatabase(), DATA_DIR: dataDir, MODELS_DIR: path.join(dataDir, 'no-models') });
  }, API_READY_MS + 30_000);

  afterAll(async () => {
    await api?.stop();
  });

  it('serves exactly the committed apps/api/openapi.json (run `npm run openapi` after changing the contract)', async () => {
    const response = await fetch(`${api.url}/docs/openapi.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(committed);
    expect(committed.servers).toEqual([{ url: '/', description: expect.any(String) }]);
  });

  it('validates with @apidevtools/swagger-parser', async () => {
    await expect(SwaggerParser.validate(structuredClone(committed) as never)).resolves.toBeDefined();
  });

  it('lints with no error and no warning under redocly.yaml (recommended rules)', () => {
    let output: string;
    try {
      output = execFileSync(process.execPath, [path.join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js'), 'lint', '--format=json'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      output = (error as { stdout: string }).stdout;
    }
    const report = JSON.parse(output) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string; ignored?: boolean; location: { pointer: string }[] }[] };
    const problems = report.problems.filter((p) => !p.ignored).map((p) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('has committed TypeScript types that the committed document generates (run `npm run openapi`)', async () => {
    expect(fs.readFileSync(TYPES_FILE, 'utf8')).toBe(await generateTypes(SPEC_FILE));
  });

  it('says security: [] exactly for the operations that answer without a key, and every other one answers 401 without it', async () => {
    const ops = operations(committed);
    const open = ops.filter(([, , op]) => Array.isArray(op.security) && op.security.length === 0).map(([method, route]) => `${method} ${route}`);
    expect(open.sort()).toEqual(['get /health/live', 'get /health/ready', 'get /v2/health/live', 'get /v2/health/ready']);
    expect(committed.security).toEqual([{ 'api-key': [] }]);
    for (const [method, route, op] of ops) {
      const response = await fetch(`${api.url}${concrete(route)}`, { method: method.toUpperCase() });
      const publicRoute = open.includes(`${method} ${route}`);
      expect({ operation: op.operationId, unauthorized: response.status === 401 }).toEqual({ operation: op.operationId, unauthorized: !publicRoute });
      await response.arrayBuffer();
    }
  });

  it('names the scope each scoped operation needs (x-required-scope), and a key without it gets 403', async () => {
    const keyWithout: Record<string, string> = { search: KEYS.hypergraph, hypergraph: KEYS.search, segment: KEYS.hypergraph, infer: KEYS.search, admin: KEYS.search };
    const scoped = operations(committed).filter(([, , op]) => op['x-required-scope']);
    expect(new Set(scoped.map(([, , op]) => op['x-required-scope']))).toEqual(new Set(['search', 'hypergraph', 'segment', 'infer', 'admin']));
    for (const [method, route, op] of scoped) {
      const response = await fetch(`${api.url}${concrete(route)}`, { method: method.toUpperCase(), headers: { 'x-api-key': keyWithout[op['x-required-scope']!] } });
      expect({ operation: op.operationId, status: response.status }).toEqual({ operation: op.operationId, status: 403 });
      await response.arrayBuffer();
    }
  });

  it('gives the servers entry from PUBLIC_URL', async () => {
    const dataDir = tempDir();
    const other = await startApi({ DATABASE_URL: await createDatabase(), DATA_DIR: dataDir, MODELS_DIR: path.join(dataDir, 'no-models'), PUBLIC_URL: 'https://lumen.example.org/api/' });
    try {
      const served = (await (await fetch(`${other.url}/docs/openapi.json`)).json()) as Document;
      expect(served.servers).toEqual([{ url: 'https://lumen.example.org/api', description: 'PUBLIC_URL' }]);
      expect({ ...served, servers: committed.servers }).toEqual(committed);
    } finally {
      await other.stop();
    }
  }, API_READY_MS + 30_000);
});
