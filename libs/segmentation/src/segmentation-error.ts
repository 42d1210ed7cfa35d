import { DomainError } from '@lumen/errors';

export const SEGMENTATION_ERROR_CODES = [
  /** The coarse or the fine model of the cascade is not loaded. */
  'segmentation.models-unavailable',
  'segmentation.not-found',
  /** Outputs were asked for before the job succeeded. */
  'segmentation.not-finished',
  /** The job succeeded but an output file is gone. */
  'segmentation.output-missing',
] as const;
export type SegmentationErrorCode = (typeof SEGMENTATION_ERROR_CODES)[number];

export class SegmentationError extends DomainError<SegmentationErrorCode> {}
