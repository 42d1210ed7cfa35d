import type { JobKind, TypedJob } from '@lumen/jobs';
import type { DicomSeriesReport, Geometry, VolumeFormat } from '@lumen/volumes';
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

export type SegmentationResult = {
  input: { geometry: Geometry; format: VolumeFormat; componentType: string; voxels: number; dicom?: DicomSeriesReport };
  organs: Partial<Record<Organ, OrganResult>>;
  dice: Partial<Record<Organ, number | null>> | null;
  models: { coarse: string; fine: string | null };
  fast: boolean;
  timingsMs: Record<string, number>;
  stage2: Stage2Summary | null;
};

/** A segmentation job record, params and result typed. */
export type SegmentationJob = TypedJob<JobKind.Segmentation>;

declare module '@lumen/jobs' {
  interface JobPayloads {
    [JobKind.Segmentation]: { params: SegmentationParams; result: SegmentationResult };
  }
}
