import { DomainError } from '@lumen/errors';

/** Every way a volume (or a zip of a DICOM series) can be refused. */
export const VOLUME_ERROR_CODES = [
  'volume.unsupported-format',
  'volume.unsupported-reference-format',
  'volume.empty-file',
  'volume.too-large',
  'volume.not-nifti',
  'volume.gzip-bomb',
  'volume.corrupt-gzip',
  'volume.not-3d',
  'volume.unsupported-pixel-type',
  'volume.empty',
  'volume.invalid-spacing',
  'volume.unreadable',
  'volume.data-size-mismatch',
  'volume.reference-grid-mismatch',
  'volume.unsafe-zip-entry',
  'volume.nested-archive',
  'volume.zip-too-large',
  'volume.invalid-zip',
  'volume.empty-zip',
  'volume.too-many-zip-entries',
  'volume.no-dicom-files',
  'volume.unknown-series',
  'volume.multiple-series',
  'volume.single-slice',
  'volume.duplicate-slices',
  'volume.uneven-slice-spacing',
  'volume.unreadable-dicom',
  /** An enhanced multi-frame image mixed with other files in one series. */
  'volume.mixed-multiframe',
  /** A slice lacks Image Position / Orientation (Patient). */
  'volume.missing-slice-position',
  /** Slices sheared against their normal (a gantry-tilted acquisition); not resampled. */
  'volume.gantry-tilt',
  /** A transfer syntax the worker's reader cannot decode. */
  'volume.unsupported-transfer-syntax',
  /** A file that starts like DICOM but whose header does not parse (named, with the parser's reason). */
  'volume.unreadable-dicom-file',
  /** An image of the chosen series whose file ends before its pixel data (named). */
  'volume.truncated-dicom-file',
  /** The series lacks Pixel Spacing (0028,0030): voxel sizes would be guesses. */
  'volume.missing-pixel-spacing',
] as const;
export type VolumeErrorCode = (typeof VOLUME_ERROR_CODES)[number];

/** Why a volume cannot be used, in words a researcher can act on; `details` are the facts behind it. */
export class VolumeError extends DomainError<VolumeErrorCode> {
  constructor(code: VolumeErrorCode, detail: string, details: Record<string, unknown> = {}) {
    super(code, detail, { details });
  }
}
