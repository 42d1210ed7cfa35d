import fs from 'node:fs';
import path from 'node:path';
import rateLimit from '@fastify/rate-limit';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { AUTH_FAILURE_WINDOW_MS, RATE_LIMIT_WINDOW_MS, authFailureLimit, keyRateLimit, rateLimitOptions, requestsPerWindow } from './rate-limit.js';

/** What the guard hands the limiter: a request whose principal is already known. */
/** A bare Fastify instance, as the Nest adapter makes it. */
const bareFastify = () => new FastifyAdapter().getInstance();

/** A Fastify instance with the plugin registered as the API registers it, ready. */
async function withPlugin(perMinute: number) {
  const fastify = bareFastify();
  await fastify.register(rateLimit, rateLimitOptions(perMinute));
  await fastify.ready();
  return fastify;
}

const requestOf = (name: string) => ({ principal: { name }, ip: '127.0.0.1', routeOptions: {} }) as unknown as FastifyRequest;

describe('per-key rate limit (@fastify/rate-limit)', () => {
  // The plugin's in-memory store reads the clock through Date.now.
  const realNow = Date.now;
  afterEach(() => (Date.now = realNow));

  it('spreads the minute over 10-second windows, a sixth each', () => {
    expect(requestsPerWindow(60)).toBe(10);
    expect(requestsPerWindow(6000)).toBe(1000);
    expect(requestsPerWindow(1)).toBe(1);
  });

  it("allows a window's share, then asks to wait until the window ends, per key, and starts afresh after it", async () => {
    let now = 1_000_000;
    Date.now = () => now;
    const fastify = bareFastify();
    await fastify.register(rateLimit, rateLimitOptions(60));
    await fastify.ready();
    const limit = keyRateLimit(fastify);
    for (let i = 0; i < 10; i++) expect(await limit(requestOf('a'))).toBe(0);
    expect(await limit(requestOf('a'))).toBe(RATE_LIMIT_WINDOW_MS / 1000);
    expect(await limit(requestOf('b'))).toBe(0); // keys are independent
    now += 4_000;
    expect(await limit(requestOf('a'))).toBe(6);
    now += RATE_LIMIT_WINDOW_MS - 4_000;
    expect(await limit(requestOf('a'))).toBe(0);
    await fastify.close();
  });

  it('uses a store plugged in instead of the in-memory one', async () => {
    const keys: string[] = [];
    class CountingStore {
      incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void) {
        keys.push(key);
        callback(null, { current: keys.length, ttl: 5_000 });
      }
      child() {
        return this;
      }
    }
    const fastify = bareFastify();
    await fastify.register(rateLimit, rateLimitOptions(6, CountingStore));
    await fastify.ready();
    const limit = keyRateLimit(fastify);
    expect(await limit(requestOf('a'))).toBe(0);
    expect(await limit(requestOf('a'))).toBe(5);
    expect(keys).toEqual(['a', 'a']);
    await fastify.close();
  });

  it('refuses to run without the plugin registered', () => {
    expect(() => keyRateLimit(bareFastify())).toThrow('@fastify/rate-limit is not registered');
  });
});

describe('failed authentications per client address', () => {
  const realNow = Date.now;
  afterEach(() => (Date.now = realNow));
  const from = (ip: string) => ({ ip, routeOptions: {} }) as unknown as FastifyRequest;

  it('closes an address after its failures of the minute, until the minute ends; other addresses stay open', async () => {
    let now = 5_000_000;
    Date.now = () => now;
    const fastify = await withPlugin(6000);
    const failures = authFailureLimit(fastify, 3);
    for (let i = 0; i < 3; i++) {
      expect(await failures.waitSeconds(from('10.0.0.1'))).toBe(0);
      await failures.record(from('10.0.0.1'));
    }
    expect(await failures.waitSeconds(from('10.0.0.1'))).toBe(AUTH_FAILURE_WINDOW_MS / 1000);
    expect(await failures.waitSeconds(from('10.0.0.2'))).toBe(0);
    now += 45_000;
    expect(await failures.waitSeconds(from('10.0.0.1'))).toBe(15); // looking does not extend the wait
    now += 15_000;
    expect(await failures.waitSeconds(from('10.0.0.1'))).toBe(0);
    await fastify.close();
  });

  it('counts IPv6 clients by /64, so rotating the interface id does not reset the count', async () => {
    const fastify = await withPlugin(6000);
    const failures = authFailureLimit(fastify, 2);
    await failures.record(from('2001:db8:1:2::1'));
    await failures.record(from('2001:db8:1:2::ffff'));
    expect(await failures.waitSeconds(from('2001:db8:1:2:abcd::9'))).toBeGreaterThan(0);
    expect(await failures.waitSeconds(from('2001:db8:1:3::1'))).toBe(0);
    await fastify.close();
  });

  it('keeps its counts apart from the per-key counts', async () => {
    const fastify = await withPlugin(60);
    const failures = authFailureLimit(fastify, 1);
    const limit = keyRateLimit(fastify);
    await failures.record(from('127.0.0.1'));
    expect(await limit({ ...from('127.0.0.1'), principal: { name: '127.0.0.1' } } as unknown as FastifyRequest)).toBe(0);
    expect(await failures.waitSeconds(from('127.0.0.1'))).toBeGreaterThan(0);
    await fastify.close();
  });
});

describe('README', () => {
  it('describes the per-key windows the code uses', () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');
    const row = readme.split('\n').find((line) => line.startsWith('| `RATE_LIMIT_PER_MINUTE`'))!;
    // "counted in fixed 10-second windows of a sixth of it each"
    expect(row).toContain(`${RATE_LIMIT_WINDOW_MS / 1000}-second windows`);
    expect(row).toContain('a sixth of it');
    expect(requestsPerWindow(6000)).toBe(6000 / 6);
    expect(60_000 / RATE_LIMIT_WINDOW_MS).toBe(6);
    const failures = readme.split('\n').find((line) => line.startsWith('| `AUTH_FAILURES_PER_MINUTE`'))!;
    expect(failures).toContain('`20`');
  });
});
