import fs from 'node:fs';
import type { Geometry } from '../geometry.js';
import { type DicomHeader, readDicomHeader, rewriteAsPart10 } from './dicom-header.js';
import { type DicomSeriesReport, chooseSeries, groupDicomSeries, seriesGeometry, seriesReport, truncatedImagesOf } from './dicom-series.js';

/** A file of a DICOM upload: where it is stored, and the name the client gave it (zip entry or part file name). */
export type DicomUploadFile = { path: string; name: string };

/** Most files of one DICOM upload (zip entries or multipart parts). */
export const DICOM_MAX_FILES = 10_000;

/** Headers read at once: each read is at most a few KiB unless the header is large. */
const HEADER_CONCURRENCY = 8;

async function readHeaders(files: DicomUploadFile[]): Promise<(DicomHeader | null)[]> {
  const headers: (DicomHeader | null)[] = new Array(files.length).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      headers[index] = await readDicomHeader(files[index].path, files[index].name);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEADER_CONCURRENCY, files.length) }, worker));
  return headers;
}

export type DicomIntake = {
  /** The chosen series' files in slice order (one file for an enhanced multi-frame image). */
  files: string[];
  /** The grid the worker's reader gives the series, from the tags alone. */
  geometry: Geometry;
  report: DicomSeriesReport;
};

/**
 * The cheap half of reading a DICOM upload, done by the API before a job is queued: reads each
 * file's header (never the pixels), groups the series, drops localisers, picks the series
 * (`seriesUid`), checks transfer syntax, slice spacing, gantry tilt and size, and computes the
 * grid from the tags. A file that starts like DICOM but does not parse, and an image of the chosen
 * series cut short before its pixels, are 422s naming the file; every file left out is counted
 * in the report by reason, with names. Files of other series and files that are not DICOM images are deleted;
 * the chosen files lacking the Part-10 preamble or meta group are rewritten as Part-10 (a
 * streamed copy) for the worker's reader, which decodes the pixels later.
 */
export async function intakeDicomFiles(files: DicomUploadFile[], options: { seriesUid?: string; maxVoxels: number }): Promise<DicomIntake> {
  const headers = await readHeaders(files);
  const { series, dropped, ignored, incomplete } = groupDicomSeries(
    headers,
    files.map((f) => f.name),
  );
  const chosen = chooseSeries(series, options.seriesUid);
  const incompleteElsewhere = truncatedImagesOf(chosen, incomplete);
  const { geometry, slices } = seriesGeometry(chosen, options.maxVoxels);
  const ordered = [...new Set(slices.map((s) => s.file))];
  const keep = new Set(ordered);
  await Promise.all(files.filter((f) => !keep.has(f.path)).map((f) => fs.promises.rm(f.path, { force: true })));
  for (const header of chosen.headers) await rewriteAsPart10(header);
  return { files: ordered, geometry, report: seriesReport(chosen, slices.length, { dropped, ignored: [...ignored, ...incompleteElsewhere], seriesInUpload: series.length }) };
}
