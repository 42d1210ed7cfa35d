/**
 * Every kind of job Lumen runs. The worker refuses to start when one of these has no
 * registered handler, so a kind can never be queued with nothing to consume it.
 */
export enum JobKind {
  /** Sleeps and reports progress: lets operators (and tests) exercise the queue end to end. */
  Diagnostic = 'diagnostic',
  /** Cascaded CT organ segmentation of one uploaded volume. */
  Segmentation = 'segmentation',
}

export const JOB_KINDS: readonly JobKind[] = Object.values(JobKind);
