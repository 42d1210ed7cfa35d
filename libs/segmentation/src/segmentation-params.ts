import type { JobKind, TypedJob } from '@lumen/jobs';
import { type DicomSeriesReport, type Geometry, VolumeFormat } from '@lumen/volumes';
import type { Organ } from './cascade-config.js';
import type { Stage2Summary } from './cascade.js';

/** What the API stores on a segmentation job (files are relative to the job's directory: see SegmentationStorage). */
export type SegmentationParams = {
  input: {
    format: VolumeFormat;
    file?: string;
    /** A DICOM input's files in slice order, read by the worker. */
    dicomFiles?: string[];
    seriesUid?: string;
    clientFileName: string;
    /** The grid from the header (DICOM: from the tags; the worker's read gives the result's). */
    geometry: Geometry;
    /** How a DICOM series was found and what was left out of it. */
    dicom?: DicomSeriesReport;
  };
  reference?: { format: VolumeFormat; file: string; labels: Partial<Record<Organ, number>> };
  organs: Organ[];
  fast: boolean;
};

/** True for a DICOM input (a zip or files of one series; the worker reads its `dicomFiles`). */
export function isDicomInput(input: SegmentationParams['input']): boolean {
  return input.format === VolumeFormat.DicomZip && !!input.dicomFiles?.length;
}

export type OrganResult = {
  label: number;
  voxels: number;
  volumeMl: number;
  meanHu: number | null;
  stdHu: number | null;
  boundingBoxMm: { min: [number, number, number]; max: [number, number, number] } | null;
  centroidMm: [number, number, number] | null;
  touchesBorder: boolean;
};

/**
 * The DICOM SEG of a DICOM input, written by the worker at the end of the job (`dicom-seg.dcm`),
 * or why none could be made (the job still succeeds: the label map is the primary output).
 */
export type DicomSegResult =
  | { available: true; segments: { number: number; organ: Organ; label: number; frames: number }[]; frames: number; sopInstanceUid: string; seriesInstanceUid: string; bytes: number }
  | { available: false; problem: string; detail: string };

export type SegmentationResult = {
  input: { geometry: Geometry; format: VolumeFormat; componentType: string; voxels: number; dicom?: DicomSeriesReport };
  organs: Partial<Record<Organ, OrganResult>>;
  dice: Partial<Record<Organ, number | null>> | null;
  models: { coarse: string; fine: string | null };
  fast: boolean;
  timingsMs: Record<string, number>;
  stage2: Stage2Summary | null;
  /** DICOM inputs only (null otherwise; absent in results written before SEG output existed). */
  dicomSeg?: DicomSegResult | null;
};

/** A segmentation job record, params and result typed. */
export type SegmentationJob = TypedJob<JobKind.Segmentation>;

declare module '@lumen/jobs' {
  interface JobPayloads {
    [JobKind.Segmentation]: { params: SegmentationParams; result: SegmentationResult };
  }
}
