import type { FastifyRateLimitStoreCtor, RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** One counting window of the per-key limit. */
export const RATE_LIMIT_WINDOW_MS = 10_000;

/** Requests one key may send in one window: a sixth of RATE_LIMIT_PER_MINUTE, at least 1. */
export function requestsPerWindow(perMinute: number): number {
  return Math.max(1, Math.ceil((perMinute * RATE_LIMIT_WINDOW_MS) / 60_000));
}

/**
 * Options for `@fastify/rate-limit` as Lumen uses it: no per-route hook (`global: false`); the
 * API-key guard counts each authenticated request against its key (see `keyRateLimit`), so
 * public routes and refused keys are never counted. RATE_LIMIT_PER_MINUTE is spread over
 * 10-second windows, a sixth of it each, so one key cannot spend a whole minute's allowance in
 * a burst. The counts live in this process's memory unless `store` plugs in a shared store
 * (the plugin's store interface; `redis` in the plugin's own options is another).
 */
export function rateLimitOptions(perMinute: number, store?: FastifyRateLimitStoreCtor): RateLimitPluginOptions {
  return {
    global: false,
    max: requestsPerWindow(perMinute),
    timeWindow: RATE_LIMIT_WINDOW_MS,
    keyGenerator: (request) => (request as FastifyRequest & { principal?: { name: string } }).principal?.name ?? request.ip,
    ...(store ? { store } : {}),
  };
}

/**
 * Counts one request against its key (`request.principal.name`) with the registered plugin;
 * resolves to 0 when it is allowed, else to the seconds until the key's window ends.
 */
export function keyRateLimit(fastify: FastifyInstance): (request: FastifyRequest) => Promise<number> {
  if (typeof fastify.createRateLimit !== 'function') throw new Error('@fastify/rate-limit is not registered on this Fastify instance (see rateLimitOptions)');
  const check = fastify.createRateLimit();
  return async (request) => {
    const result = await check(request);
    return !result.isAllowed && result.isExceeded ? Math.max(1, result.ttlInSeconds) : 0;
  };
}
