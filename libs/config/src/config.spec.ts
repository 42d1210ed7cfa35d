import { ConfigError, loadConfig } from './config.js';
import { Scope, hashSecret, parseApiKeys } from './api-keys.js';

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, databaseUrl: undefined, inferenceDevice: 'auto', workerEnabled: true, apiKeys: [], uploadMaxBytes: 1024 ** 3 });
    expect(config.inferenceThreads).toBeGreaterThan(0);
  });

  it('parses byte sizes with units', () => {
    expect(loadConfig({ UPLOAD_MAX_BYTES: '512MiB' }).uploadMaxBytes).toBe(512 * 1024 * 1024);
    expect(loadConfig({ UPLOAD_MAX_BYTES: '2GB' }).uploadMaxBytes).toBe(2e9);
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', INFERENCE_DEVICE: 'tpu' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'x', INFERENCE_DEVICE: 'tpu' });
    } catch (error) {
      expect((error as Error).message).toMatch(/PORT/);
      expect((error as Error).message).toMatch(/INFERENCE_DEVICE/);
    }
  });

  it('throttles failed authentications by default and cannot be told not to', () => {
    expect(loadConfig({}).authFailuresPerMinute).toBe(20);
    expect(loadConfig({ AUTH_FAILURES_PER_MINUTE: '5' }).authFailuresPerMinute).toBe(5);
    expect(() => loadConfig({ AUTH_FAILURES_PER_MINUTE: '0' })).toThrow(/AUTH_FAILURES_PER_MINUTE: must be at least 1/);
  });

  it('rejects a heartbeat below pg-boss minimum', () => {
    expect(() => loadConfig({ JOB_HEARTBEAT_SECONDS: '5' })).toThrow(/JOB_HEARTBEAT_SECONDS/);
  });
});

describe('parseApiKeys', () => {
  it('parses names, scopes and keeps only a hash of the secret', () => {
    const [ops, app] = parseApiKeys('ops:s3cret-long-enough:admin, app:k2-longer-than-16:search+segment');
    expect(ops).toEqual({ name: 'ops', secretSha256: hashSecret('s3cret-long-enough'), scopes: [Scope.Admin] });
    expect(app.scopes).toEqual([Scope.Search, Scope.Segment]);
    expect(JSON.stringify(app)).not.toContain('k2-longer-than-16');
  });

  it.each([
    ['ops:admin', /name:secret:scopes/],
    ['ops:short:admin', /at least 16 characters \(got 5\)/],
    ['ops:fifteen-chars-a:admin', /at least 16 characters \(got 15\)/],
    ['ops:long-enough-secret:root', /unknown scope/],
    ['a:long-enough-secret:admin,a:other-secret-value:search', /duplicate/],
    ['bad name:long-enough-secret:admin', /name/],
  ])('rejects %s', (value, message) => {
    expect(() => parseApiKeys(value)).toThrow(message);
  });
});
