import rateLimit from '@fastify/rate-limit';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { RATE_LIMIT_WINDOW_MS, keyRateLimit, rateLimitOptions, requestsPerWindow } from './rate-limit.js';

/** What the guard hands the limiter: a request whose principal is already known. */
/** A bare Fastify instance, as the Nest adapter makes it. */
const bareFastify = () => new FastifyAdapter().getInstance();

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
