import { DiscoveryService } from '@nestjs/core';
import type { JobKind } from './job-kind.js';

export type JobHandlerOptions = {
  kind: JobKind;
  /** Jobs of this kind run at the same time in one worker process. */
  concurrency: number;
  /** A running job is failed (and retried) after this long, whatever its heartbeats say. */
  expireInSeconds?: number;
};

/** Marks a provider as the handler of one job kind; the worker discovers it by this. */
export const JobHandler = DiscoveryService.createDecorator<JobHandlerOptions>();

export type JobContext<P = unknown> = {
  jobId: string;
  params: P;
  attempt: number;
  /** Aborted when the job is canceled or expires. */
  signal: AbortSignal;
  /** Records progress 0..1 and the current stage; throws JobCanceledError once canceled. */
  progress: (fraction: number, stage?: string) => Promise<void>;
};

export interface JobRunner<P = unknown, R = unknown> {
  run(context: JobContext<P>): Promise<R>;
}

/** The job was canceled while it ran; its record already says so. */
export class JobCanceledError extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} was canceled`);
  }
}

/** A failure that retrying cannot fix (bad input found late): fail at once, no retry. */
export class PermanentJobError extends Error {
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
