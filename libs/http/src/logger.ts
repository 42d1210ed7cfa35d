import type { DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { type Logger, pino } from 'pino';

/**
 * The process's one pino logger: JSON lines (for log collectors) unless stdout is a terminal,
 * where pino-pretty prints them for people. LOG_LEVEL sets the level.
 */
export function createLogger(level: string, pretty: boolean = process.stdout.isTTY === true): Logger {
  return pino({
    level,
    base: { service: 'lumen', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'service,pid,hostname' } } } : {}),
  });
}

/**
 * nestjs-pino over `logger`, which the API's Fastify adapter also gets (`loggerInstance`):
 * Fastify logs each request ("incoming request", "request completed") under its request id
 * (`reqId`: the client's X-Request-ID, else a UUID; the id answered in the X-Request-ID header
 * and in problem+json bodies), and nestjs-pino binds Nest's messages made during a request to
 * that request's logger (`useExisting`). Outside requests, and in the worker, it logs through
 * `logger` itself. Use with `app.useLogger(app.get(Logger))`.
 */
export function loggingModule(logger: Logger): DynamicModule {
  return LoggerModule.forRoot({ pinoHttp: { logger }, useExisting: true });
}
