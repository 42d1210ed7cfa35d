import { DomainError } from '@lumen/errors';

export const JOB_ERROR_CODES = ['job.not-found'] as const;
export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];

export class JobError extends DomainError<JobErrorCode> {}
