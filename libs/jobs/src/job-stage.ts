/**
 * What a job is doing, as a code clients can rely on (the record's `stage` beside it is the
 * human text, e.g. "stage 2: tile 12/40"). The lifecycle codes are set by the queue; the others
 * by handlers through `JobContext.progress`.
 */
export enum JobStage {
  Queued = 'queued',
  Starting = 'starting',
  /** Failed, and will be tried again. */
  Retrying = 'retrying',
  Done = 'done',
  Failed = 'failed',
  Canceled = 'canceled',
  /** A handler's work without finer codes (diagnostic jobs). */
  Running = 'running',
  // Segmentation (libs/segmentation):
  Reading = 'reading',
  Stage1 = 'stage1',
  CandidateRegion = 'candidate-region',
  Stage2 = 'stage2',
  PostProcessing = 'post-processing',
  Statistics = 'statistics',
  Writing = 'writing',
}

const STAGES = new Set<string>(Object.values(JobStage));

/** The stored code as the enum (records written before codes existed read as their status). */
export function jobStage(code: string): JobStage {
  return STAGES.has(code) ? (code as JobStage) : JobStage.Running;
}
