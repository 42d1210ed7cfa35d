import type { Job } from '@lumen/database';
import type { DiagnosticParams, DiagnosticResult } from './diagnostic.handler.js';
import { JobKind } from './job-kind.js';
import type { JobStage } from './job-stage.js';

/**
 * Job kind → the params its record holds and the result its handler returns. `enqueue`,
 * `@JobHandler` runners and typed reads of job records all take their types from here. A library
 * that owns a kind adds its entry by module augmentation:
 *
 *     declare module '@lumen/jobs' {
 *       interface JobPayloads { [JobKind.Segmentation]: { params: SegmentationParams; result: SegmentationResult } }
 *     }
 */
export interface JobPayloads {
  [JobKind.Diagnostic]: { params: DiagnosticParams; result: DiagnosticResult };
}

/** Kinds with a payload entry (every kind: see the check below). */
export type TypedJobKind = keyof JobPayloads & JobKind;
export type JobParams<K extends TypedJobKind> = JobPayloads[K]['params'];
export type JobResult<K extends TypedJobKind> = JobPayloads[K]['result'];

/** A job record of kind K with its params and result typed. */
export type TypedJob<K extends TypedJobKind> = Omit<Job, 'kind' | 'params' | 'result' | 'stageCode'> & {
  kind: K;
  params: JobParams<K>;
  result: JobResult<K> | null;
  stageCode: JobStage;
};

/** Does not compile while a job kind has no JobPayloads entry. */
export const EVERY_KIND_TYPED: Record<Exclude<JobKind, TypedJobKind>, never> = {};
