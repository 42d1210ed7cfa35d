import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { JobWithMetadata } from 'pg-boss';
import { Histogram } from 'prom-client';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { JobCanceledError, JobHandlerMetadata, type JobHandlerOptions, type JobRunner, PermanentJobError } from './job-handler.js';
import { JOB_KINDS, type JobKind } from './job-kind.js';
import type { TypedJobKind } from './job-payloads.js';
import { JobQueueService, type QueuedJobPayload } from './job-queue.service.js';
import { JobsService } from './jobs.service.js';
import { WorkerFleetService } from './worker-fleet.service.js';

const jobDuration = new Histogram({
  name: 'lumen_job_duration_seconds',
  help: 'Duration of job attempts by kind and outcome',
  labelNames: ['kind', 'outcome'],
  buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
});

type RegisteredHandler = { options: JobHandlerOptions; runner: JobRunner<TypedJobKind> };

/** Finds every @JobHandler provider and, when this process is a worker, consumes their queues (as the fleet decides). */
@Injectable()
export class JobWorkerService implements OnApplicationBootstrap {
  private readonly logger = new Logger('JobWorker');
  private readonly handlers = new Map<TypedJobKind, RegisteredHandler>();

  constructor(
    @Inject(CONFIG) private readonly config: LumenConfig,
    private readonly discovery: DiscoveryService,
    private readonly queue: JobQueueService,
    private readonly jobs: JobsService,
    private readonly fleet: WorkerFleetService,
  ) {}

  /** Collects handlers and fails start-up when a job kind has none (or two). */
  registerHandlers(): Map<TypedJobKind, RegisteredHandler> {
    this.handlers.clear();
    // Every provider is inspected: the metadata-key index only sees providers linked while
    // modules were scanned, which misses handlers of dynamically imported modules.
    const seen = new Set<unknown>();
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.metatype || !wrapper.instance || seen.has(wrapper.instance)) continue;
      const options = this.discovery.getMetadataByDecorator(JobHandlerMetadata, wrapper);
      if (!options) continue;
      seen.add(wrapper.instance);
      if (this.handlers.has(options.kind)) throw new Error(`Two handlers registered for job kind "${options.kind}"`);
      // @JobHandler only accepts a class whose run() fits its kind's JobPayloads entry.
      this.handlers.set(options.kind, { options, runner: wrapper.instance as JobRunner<TypedJobKind> });
    }
    const missing = JOB_KINDS.filter((kind: JobKind) => !this.handlers.has(kind));
    if (missing.length) throw new Error(`No handler registered for job kind(s): ${missing.join(', ')}`);
    return this.handlers;
  }

  async onApplicationBootstrap(): Promise<void> {
    const handlers = this.registerHandlers();
    if (!this.config.workerEnabled) return;
    // The fleet decides which queues this worker consumes (CUDA preference), now and at each heartbeat.
    await this.fleet.start(
      [...handlers].map(([kind, handler]) => ({
        kind,
        prefersCuda: handler.options.prefersCuda ?? false,
        capability: handler.runner.capability?.() ?? { device: 'cpu', models: [] },
        consume: async () => {
          await this.queue.work(kind, handler.options.concurrency, (job) => this.execute(kind, handler, job));
          this.logger.log(`consuming "${kind}" jobs (concurrency ${handler.options.concurrency})`);
        },
      })),
    );
  }

  private async execute(kind: TypedJobKind, handler: RegisteredHandler, queued: JobWithMetadata<QueuedJobPayload>): Promise<void> {
    const { jobId } = queued.data;
    const job = await this.jobs.markRunning(kind, jobId);
    if (!job) return; // canceled before it started
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    const attempt = queued.retryCount + 1;
    try {
      const result = await handler.runner.run({
        jobId,
        params: job.params,
        attempt,
        signal: queued.signal,
        progress: async (fraction, stage, text) => {
          if (!(await this.jobs.progress(jobId, fraction, stage, text))) throw new JobCanceledError(jobId);
        },
      });
      await this.jobs.succeed(jobId, result);
      jobDuration.observe({ kind, outcome: 'succeeded' }, seconds());
    } catch (error) {
      if (error instanceof JobCanceledError) {
        jobDuration.observe({ kind, outcome: 'canceled' }, seconds());
        return;
      }
      const permanent = error instanceof PermanentJobError;
      const retrying = !permanent && queued.retryCount < queued.retryLimit;
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn(`job ${jobId} (${kind}) attempt ${attempt} failed: ${message}${retrying ? '; will retry' : ''}`);
      await this.jobs.fail(jobId, { message, details: permanent ? error.details : undefined, attempt, retrying });
      jobDuration.observe({ kind, outcome: retrying ? 'retried' : 'failed' }, seconds());
      if (retrying) throw error; // pg-boss schedules the retry
    }
  }
}
