import type { FastifyRateLimitStoreCtor, RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** One counting window of the per-key limit. */
export const RATE_LIMIT_WINDOW_MS = 10_000;

/** The window failed authentications are counted in, per client address. */
export const AUTH_FAILURE_WINDOW_MS = 60_000;

/** Requests one key may send in one window: a sixth of RATE_LIMIT_PER_MINUTE, at least 1. */
export function requestsPerWindow(perMinute: number): number {
  return Math.max(1, Math.ceil((perMinute * RATE_LIMIT_WINDOW_MS) / 60_000));
}

/**
 * Options for `@fastify/rate-limit` as Lumen uses it: no per-route hook (`global: false`); the
 * API-key guard counts each authenticated request against its key (see `keyRateLimit`), so
 * public routes are never counted, and each failed authentication against the client's address
 * (see `authFailureLimit`). RATE_LIMIT_PER_MINUTE is spread over 10-second windows, a sixth of it
 * each, so one key cannot spend a whole minute's allowance in a burst. The counts live in this
 * process's memory unless `store` plugs in a shared store (the plugin's store interface; `redis`
 * in the plugin's own options is another).
 */
export function rateLimitOptions(perMinute: number, store?: FastifyRateLimitStoreCtor): RateLimitPluginOptions {
  return {
    global: false,
    max: requestsPerWindow(perMinute),
    timeWindow: RATE_LIMIT_WINDOW_MS,
    ...(store ? { store } : {}),
  };
}

function registeredPlugin(fastify: FastifyInstance): FastifyInstance['createRateLimit'] {
  if (typeof fastify.createRateLimit !== 'function') throw new Error('@fastify/rate-limit is not registered on this Fastify instance (see rateLimitOptions)');
  return fastify.createRateLimit.bind(fastify);
}

/**
 * Counts one request against its key (`request.principal.name`) with the registered plugin;
 * resolves to 0 when it is allowed, else to the seconds until the key's window ends.
 */
export function keyRateLimit(fastify: FastifyInstance): (request: FastifyRequest) => Promise<number> {
  const check = registeredPlugin(fastify)({ keyGenerator: (request) => (request as FastifyRequest & { principal?: { name: string } }).principal?.name ?? request.ip });
  return async (request) => {
    const result = await check(request);
    return !result.isAllowed && result.isExceeded ? Math.max(1, result.ttlInSeconds) : 0;
  };
}

/** Failed authentications of one client address, counted in its own store of the plugin. */
export type AuthFailureLimit = {
  /** Seconds this address must wait before any key of it is looked at again; 0 when it may try. */
  waitSeconds(request: FastifyRequest): Promise<number>;
  /** Counts one failed authentication of the request's address. */
  record(request: FastifyRequest): Promise<void>;
};

/**
 * Keys cannot be guessed at network speed: `perMinute` failed authentications from one client
 * address (the plugin's key: the address, IPv6 grouped by /64) within a minute close that address
 * until the minute ends. The check comes before the key is looked at, so a right guess made
 * while closed is refused like a wrong one and tells the guesser nothing.
 */
export function authFailureLimit(fastify: FastifyInstance, perMinute: number): AuthFailureLimit {
  // No keyGenerator: the plugin's default, the client address (normalised, IPv6 by subnet).
  const failures = registeredPlugin(fastify)({ max: perMinute, timeWindow: AUTH_FAILURE_WINDOW_MS });
  return {
    async waitSeconds(request) {
      const seen = await failures(request, { increment: false });
      return !seen.isAllowed && seen.remaining === 0 ? Math.max(1, seen.ttlInSeconds) : 0;
    },
    async record(request) {
      await failures(request);
    },
  };
}
