import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PgBoss, type JobWithMetadata } from 'pg-boss';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { DATABASE_CONNECTION, type DatabaseConnection } from '@lumen/database';
import { JOB_KINDS, type JobKind } from './job-kind.js';

export type QueuedJobPayload = { jobId: string };

/** Thin adapter over pg-boss: the queue lives in the same PostgreSQL, schema `pgboss`. */
@Injectable()
export class JobQueueService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('JobQueue');
  readonly boss: PgBoss;

  constructor(
    @Inject(CONFIG) private readonly config: LumenConfig,
    @Inject(DATABASE_CONNECTION) connection: DatabaseConnection,
  ) {
    this.boss = new PgBoss({
      connectionString: connection.url,
      schema: 'pgboss',
      max: 4,
      superviseIntervalSeconds: config.jobSuperviseSeconds,
      monitorIntervalSeconds: config.jobSuperviseSeconds,
    });
    this.boss.on('error', (error) => this.logger.error(`queue error: ${error.message}`));
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
    for (const kind of JOB_KINDS) {
      const options = {
        retryLimit: this.config.jobRetryLimit,
        retryDelay: 1,
        retryBackoff: true,
        heartbeatSeconds: this.config.jobHeartbeatSeconds,
        expireInSeconds: 6 * 3600,
        retentionSeconds: 14 * 24 * 3600,
      };
      if (await this.boss.getQueue(kind)) await this.boss.updateQueue(kind, options);
      else await this.boss.createQueue(kind, options);
    }
  }

  async onModuleDestroy(): Promise<void> {
    // Running handlers get a grace period; what is still running goes back to the queue.
    await this.boss.stop({ graceful: true, timeout: 20_000 });
  }

  async send(kind: JobKind, jobId: string): Promise<void> {
    await this.boss.send(kind, { jobId } satisfies QueuedJobPayload, { id: jobId });
  }

  async cancel(kind: JobKind, jobId: string): Promise<void> {
    await this.boss.cancel(kind, jobId);
  }

  /** Stops fetching jobs of `kind` (those running finish). */
  async stopWork(kind: string): Promise<void> {
    await this.boss.offWork(kind, { wait: false });
  }

  async work(kind: JobKind, concurrency: number, handler: (job: JobWithMetadata<QueuedJobPayload>) => Promise<void>): Promise<void> {
    await this.boss.work<QueuedJobPayload>(
      kind,
      { localConcurrency: concurrency, batchSize: 1, includeMetadata: true, pollingIntervalSeconds: 1 },
      async ([job]) => handler(job as JobWithMetadata<QueuedJobPayload>),
    );
  }
}
