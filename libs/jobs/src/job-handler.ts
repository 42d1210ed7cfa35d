import { DiscoveryService } from '@nestjs/core';
import type { JobParams, JobResult, TypedJobKind } from './job-payloads.js';
import type { JobStage } from './job-stage.js';
import type { WorkerCapability } from './worker-fleet.js';

export type JobHandlerOptions<K extends TypedJobKind = TypedJobKind> = {
  kind: K;
  /** Jobs of this kind run at the same time in one worker process. */
  concurrency: number;
  /** A running job is failed (and retried) after this long, whatever its heartbeats say. */
  expireInSeconds?: number;
  /**
   * Jobs of this kind go to CUDA workers while one is alive; CPU workers take them when none is,
   * or once one has waited CPU_FALLBACK_SECONDS (WorkerFleetService).
   */
  prefersCuda?: boolean;
};

export type JobContext<K extends TypedJobKind> = {
  jobId: string;
  params: JobParams<K>;
  attempt: number;
  /** Aborted when the job is canceled or expires. */
  signal: AbortSignal;
  /**
   * Records progress 0..1, the stage code and its human text (the code when no text is given);
   * throws JobCanceledError once canceled.
   */
  progress: (fraction: number, stage: JobStage, text?: string) => Promise<void>;
};

export interface JobRunner<K extends TypedJobKind> {
  run(context: JobContext<K>): Promise<JobResult<K>>;
  /** Where this process runs the kind and with which models (advertised to the fleet); CPU and none when absent. */
  capability?(): WorkerCapability;
}

/** The metadata the worker discovers handlers by. */
export const JobHandlerMetadata = DiscoveryService.createDecorator<JobHandlerOptions>();

/**
 * Marks a provider as the handler of one job kind; the worker discovers it by this. The class
 * must run that kind's params into its result (JobPayloads).
 */
export function JobHandler<K extends TypedJobKind>(options: JobHandlerOptions<K>) {
  return <T extends abstract new (...args: never[]) => JobRunner<K>>(target: T): void => {
    JobHandlerMetadata(options)(target);
  };
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
