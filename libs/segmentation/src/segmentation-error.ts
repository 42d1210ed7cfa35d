import { DomainError } from '@lumen/errors';

export const SEGMENTATION_ERROR_CODES = [
  /** The coarse or the fine model of the cascade is not loaded. */
  'segmentation.models-unavailable',
  'segmentation.not-found',
  /** Outputs were asked for before the job succeeded. */
  'segmentation.not-finished',
  /** The job succeeded but an output file is gone. */
  'segmentation.output-missing',
  /** A DICOM SEG was asked of a NIfTI/NRRD/MHA input: nothing DICOM to reference. */
  'segmentation.dicom-seg-needs-dicom-input',
  /** The worker could make no DICOM SEG for this input (the result says why). */
  'segmentation.dicom-seg-unavailable',
] as const;
export type SegmentationErrorCode = (typeof SEGMENTATION_ERROR_CODES)[number];

export class SegmentationError extends DomainError<SegmentationErrorCode> {}
