import type { Server } from 'node:http';
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import type { Logger } from 'pino';

/** How long a SIGTERM may take (running jobs finishing) before the process exits 1 anyway. */
export const SHUTDOWN_GRACE_MS = 30_000;

/**
 * SIGTERM/SIGINT: stop accepting requests, let running jobs finish (pg-boss's graceful stop
 * returns unfinished ones to the queue), close the database, and exit 0. A second signal, or
 * a shutdown that takes longer than `graceMs`, exits at once.
 */
export function exitGracefullyOn(app: INestApplicationContext, logger: Logger, graceMs = SHUTDOWN_GRACE_MS): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    // Stop accepting connections at once: Nest closes its HTTP server only after every module's
    // destroy hook, and the job queue's hook waits for running jobs to finish.
    const server = (app as Partial<INestApplication>).getHttpServer?.() as Server | undefined;
    server?.close(() => undefined);
    server?.closeIdleConnections?.();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
