import { createHash } from 'node:crypto';
import type { Geometry } from '../geometry.js';
import { VolumeError } from '../volume-error.js';
import type { DicomHeader } from './dicom-header.js';
import { assertDecodable, transferSyntax } from './transfer-syntax.js';

/** How the files of a series were found to belong together. */
export enum SeriesGrouping {
  /** By (0020,000E) SeriesInstanceUID. */
  SeriesInstanceUid = 'series-instance-uid',
  /** SeriesInstanceUID missing or empty (anonymised exports): by the fallback key of SeriesKey. */
  Derived = 'derived',
}

/** The fallback key: files agreeing on all of these are one series. */
export type SeriesKey = {
  studyInstanceUid: string;
  frameOfReferenceUid: string;
  imageOrientationPatient: number[] | null;
  rows: number;
  columns: number;
  pixelSpacing: number[] | null;
};

export enum DropReason {
  /** ImageType (0008,0008) value 3 is LOCALIZER: a scout/topogram. */
  Localizer = 'localizer',
  /** Another orientation than most images of the series (a scout without the LOCALIZER flag). */
  OtherOrientation = 'other-orientation',
  /** Another matrix size than most images of the series. */
  OtherSize = 'other-size',
  /** A series of one image beside a series of several (a scout or key image in a series of its own). */
  LoneImage = 'lone-image',
}

export type DroppedImages = { reason: DropReason; seriesUid: string; files: number };

/** Why a file of the upload is not part of any series. */
export enum IgnoreReason {
  /** No DICOM signature (a readme, a thumbnail database...). */
  NotDicom = 'not-dicom',
  /** DICOM without an image: no Rows/Columns or no Pixel Data (DICOMDIR, structured reports...). */
  NoImage = 'no-image',
  /** An image whose file ends before its Pixel Data, of another series than the one read. */
  IncompleteImage = 'incomplete-image',
}

/** Files of one reason left out, counted, with the first few names. */
export type IgnoredFiles = { reason: IgnoreReason; files: number; examples: string[] };

/** Names listed per reason in reports and messages. */
const EXAMPLES = 5;

export type DicomSeriesGroup = {
  /** The SeriesInstanceUID, or `derived-<16 hex>` (a hash of the SeriesKey) when it is missing. */
  seriesUid: string;
  grouping: SeriesGrouping;
  key?: SeriesKey;
  description: string;
  modality: string;
  headers: DicomHeader[];
};

/** What a segmentation reports about the DICOM series it read (in the job's params and result). */
export type DicomSeriesReport = {
  seriesUid: string;
  grouping: SeriesGrouping;
  /** The fallback key the series was grouped by, when grouping is `derived`. */
  derivedFrom?: SeriesKey;
  description: string;
  modality: string;
  transferSyntax: { uid: string; name: string };
  multiFrame: boolean;
  files: number;
  slices: number;
  /** Images left out of the volume and why (every series of the upload). */
  dropped: DroppedImages[];
  /** Files that are not DICOM images (DICOMDIR, reports, other files): how many in all. */
  ignoredFiles: number;
  /** The same files by reason, with the first names of each. */
  ignored: IgnoredFiles[];
  /** Series in the upload, this one included. */
  seriesInUpload: number;
};

const round = (values: number[] | null, digits: number) => values?.map((v) => Number(v.toFixed(digits))) ?? null;

function seriesKey(h: DicomHeader): SeriesKey {
  return {
    studyInstanceUid: h.studyUid,
    frameOfReferenceUid: h.frameOfReferenceUid,
    imageOrientationPatient: round(h.orientation, 4),
    rows: h.rows,
    columns: h.columns,
    pixelSpacing: round(h.pixelSpacing, 4),
  };
}

const isImage = (h: DicomHeader | null): h is DicomHeader => h !== null && h.hasPixelData && h.rows > 0 && h.columns > 0;
/** An image object (Rows, Columns) whose file ended before its Pixel Data: truncated, most likely. */
const isIncompleteImage = (h: DicomHeader | null): h is DicomHeader => h !== null && !h.hasPixelData && h.rows > 0 && h.columns > 0;

/** The series id a header is grouped under: its SeriesInstanceUID, or `derived-<hash of its SeriesKey>`. */
function seriesIdOf(h: DicomHeader): string {
  return h.seriesUid || `derived-${createHash('sha256').update(JSON.stringify(seriesKey(h))).digest('hex').slice(0, 16)}`;
}

function ignoredBy(reason: IgnoreReason, names: string[]): IgnoredFiles[] {
  return names.length ? [{ reason, files: names.length, examples: names.slice(0, EXAMPLES) }] : [];
}

/** "a", "b" and 3 more */
function listed(names: string[]): string {
  const shown = names.slice(0, EXAMPLES).map((n) => `"${n}"`).join(', ');
  return names.length > EXAMPLES ? `${shown} and ${names.length - EXAMPLES} more` : shown;
}

/** 422 naming the images of the series being read whose files end before their pixel data. */
function truncatedImages(headers: DicomHeader[]): VolumeError {
  const names = headers.map((h) => h.name);
  return new VolumeError(
    'volume.truncated-dicom-file',
    `${names.length} image file${names.length === 1 ? '' : 's'} of the series end${names.length === 1 ? 's' : ''} before the pixel data (truncated?): ${listed(names)}; upload the complete files`,
    { files: names.slice(0, 100) },
  );
}

/** The most common value of `key` among `headers`. */
function majority(headers: DicomHeader[], key: (h: DicomHeader) => string): string {
  const counts = new Map<string, number>();
  for (const h of headers) counts.set(key(h), (counts.get(key(h)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
}

/**
 * Groups DICOM headers into series: by SeriesInstanceUID, or — when that is missing or empty,
 * as anonymisers leave it — by the SeriesKey (study, frame of reference, orientation, matrix,
 * pixel spacing). Localisers and images that do not fit their series are dropped and counted;
 * files that are not images are counted as ignored, by reason (`names[i]` names `headers[i]`,
 * a null header being a file without DICOM signature). Images whose files end before their pixel
 * data are set aside in `incomplete`: the caller refuses them if they belong to the series it
 * reads (truncatedImagesOf), else reports them. 422 `no-dicom-files` when no image is left.
 */
export function groupDicomSeries(
  headers: (DicomHeader | null)[],
  names: string[] = headers.map((h, i) => h?.name ?? `file ${i + 1}`),
): { series: DicomSeriesGroup[]; dropped: DroppedImages[]; ignored: IgnoredFiles[]; incomplete: DicomHeader[] } {
  const images = headers.filter(isImage);
  const incomplete = headers.filter(isIncompleteImage);
  const ignored = [
    ...ignoredBy(IgnoreReason.NotDicom, names.filter((_, i) => headers[i] === null)),
    ...ignoredBy(IgnoreReason.NoImage, headers.filter((h): h is DicomHeader => h !== null && !isImage(h) && !isIncompleteImage(h)).map((h) => h.name)),
  ];
  if (!images.length && incomplete.length) throw truncatedImages(incomplete);
  if (!images.length) throw new VolumeError('volume.no-dicom-files', `The upload holds no readable DICOM images (${headers.length} file${headers.length === 1 ? '' : 's'}, none a DICOM image)`, { ignored });
  const groups = new Map<string, DicomSeriesGroup>();
  for (const h of images) {
    const derived = !h.seriesUid;
    const seriesUid = seriesIdOf(h);
    const group = groups.get(seriesUid) ?? { seriesUid, grouping: derived ? SeriesGrouping.Derived : SeriesGrouping.SeriesInstanceUid, key: derived ? seriesKey(h) : undefined, description: h.description, modality: h.modality, headers: [] };
    group.headers.push(h);
    groups.set(seriesUid, group);
  }
  const dropped: DroppedImages[] = [];
  const drop = (group: DicomSeriesGroup, reason: DropReason, out: (h: DicomHeader) => boolean) => {
    const count = group.headers.filter(out).length;
    if (!count) return;
    dropped.push({ reason, seriesUid: group.seriesUid, files: count });
    group.headers = group.headers.filter((h) => !out(h));
  };
  for (const group of groups.values()) {
    drop(group, DropReason.Localizer, (h) => h.imageType[2] === 'LOCALIZER');
    if (!group.headers.length) continue;
    const orientation = (h: DicomHeader) => JSON.stringify(round(h.orientation, 3));
    const usual = majority(group.headers, orientation);
    drop(group, DropReason.OtherOrientation, (h) => orientation(h) !== usual);
    const size = (h: DicomHeader) => `${h.rows}x${h.columns}`;
    const usualSize = majority(group.headers, size);
    drop(group, DropReason.OtherSize, (h) => size(h) !== usualSize);
  }
  let series = [...groups.values()].filter((g) => g.headers.length > 0);
  const slices = (g: DicomSeriesGroup) => g.headers.reduce((n, h) => n + h.frames, 0);
  if (series.some((g) => slices(g) > 1)) {
    for (const g of series.filter((s) => slices(s) === 1)) dropped.push({ reason: DropReason.LoneImage, seriesUid: g.seriesUid, files: 1 });
    series = series.filter((g) => slices(g) > 1);
  }
  if (!series.length) throw new VolumeError('volume.no-dicom-files', 'The upload holds no DICOM images but localisers', { dropped });
  return { series, dropped, ignored, incomplete };
}

/**
 * The incomplete images (groupDicomSeries) of `chosen` are a 422 naming them: a slice cut short
 * must not vanish from the volume. Those of other series are returned, to be reported.
 */
export function truncatedImagesOf(chosen: DicomSeriesGroup, incomplete: DicomHeader[]): IgnoredFiles[] {
  const ofChosen = incomplete.filter((h) => seriesIdOf(h) === chosen.seriesUid);
  if (ofChosen.length) throw truncatedImages(ofChosen);
  return ignoredBy(IgnoreReason.IncompleteImage, incomplete.map((h) => h.name));
}

/**
 * Picks the series to read: the only one, or the one named by `seriesUid` (a SeriesInstanceUID
 * or a derived id). Several series and no choice is a 422 listing them, so the client can choose.
 */
export function chooseSeries(series: DicomSeriesGroup[], seriesUid?: string): DicomSeriesGroup {
  const summary = series.map((s) => ({ seriesUid: s.seriesUid, grouping: s.grouping, description: s.description, modality: s.modality, files: s.headers.length }));
  if (seriesUid) {
    const chosen = series.find((s) => s.seriesUid === seriesUid);
    if (!chosen) throw new VolumeError('volume.unknown-series', `The upload has no series ${seriesUid}`, { series: summary });
    return chosen;
  }
  if (series.length > 1) {
    throw new VolumeError('volume.multiple-series', `The upload holds ${series.length} DICOM series; choose one with the seriesUid field`, { series: summary });
  }
  return series[0];
}

/** One slice of a series: a file (classic) or a frame of the one multi-frame file. */
export type DicomSlice = { file: string; frame: number; position: number[] };

function cross(a: number[], b: number[]): number[] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** Gantry tilt above this (degrees) is refused: the slices would need resampling. */
const MAX_SHEAR_DEGREES = 0.5;

/**
 * The series' slices and the grid the worker's reader will give them, from the tags alone:
 * evenly spaced along the slice normal (a gap or a stray slice is a 422), not sheared (gantry
 * tilt is a 422: Lumen does not resample tilted acquisitions), within `maxVoxels` (413), in a
 * transfer syntax the worker decodes (415).
 */
export function seriesGeometry(group: DicomSeriesGroup, maxVoxels: number): { geometry: Geometry; slices: DicomSlice[] } {
  assertDecodable(group.headers.map((h) => h.transferSyntaxUid));
  const multiFrame = group.headers.filter((h) => h.frames > 1);
  if (multiFrame.length && group.headers.length > 1) {
    throw new VolumeError('volume.mixed-multiframe', `The series mixes ${multiFrame.length} multi-frame image(s) with ${group.headers.length - multiFrame.length} other file(s); upload an enhanced multi-frame image on its own`);
  }
  const slices = group.headers.flatMap((h) => h.positions.map((position, frame) => ({ file: h.file, frame, position })));
  if (slices.length < 2) throw new VolumeError('volume.single-slice', 'The series has one slice; a 3D volume needs several');
  const first = group.headers[0];
  const orientation = first.orientation;
  if (!orientation || orientation.length !== 6) {
    throw new VolumeError('volume.missing-slice-position', `The series lacks Image Orientation (Patient) (first file "${first.name}"): its slices cannot be placed in space`);
  }
  const unplaced = [...new Set(slices.filter((s) => !s.position || s.position.length !== 3).map((s) => group.headers.find((h) => h.file === s.file)!.name))];
  if (unplaced.length) {
    throw new VolumeError('volume.missing-slice-position', `The series lacks Image Position (Patient) on ${listed(unplaced)}: those slices cannot be placed in space`, { files: unplaced.slice(0, 100) });
  }
  if (!first.pixelSpacing || first.pixelSpacing.length !== 2 || first.pixelSpacing.some((v) => !(v > 0))) {
    throw new VolumeError('volume.missing-pixel-spacing', `The series lacks a positive Pixel Spacing (0028,0030) (first file "${first.name}"): voxel sizes, volumes in mL and the resampling to the models' grid would be guesses`);
  }
  const placed = slices as DicomSlice[];
  const row = orientation.slice(0, 3);
  const column = orientation.slice(3, 6);
  const normal = cross(row, column);
  placed.sort((a, b) => dot(a.position, normal) - dot(b.position, normal));
  const along = placed.map((s) => dot(s.position, normal));
  const gaps = along.slice(1).map((p, i) => p - along[i]);
  const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)];
  if (median <= 1e-3) throw new VolumeError('volume.duplicate-slices', 'Several slices share the same position');
  const shear = Math.max(
    ...placed.slice(1).map((s, i) => {
      const d = s.position.map((v, axis) => v - placed[i].position[axis]);
      const a = dot(d, normal);
      const off = Math.hypot(...d.map((v, axis) => v - a * normal[axis]));
      return (Math.atan2(off, Math.abs(a)) * 180) / Math.PI;
    }),
  );
  if (shear > MAX_SHEAR_DEGREES) {
    const tag = first.gantryTilt ? ` (Gantry/Detector Tilt ${first.gantryTilt}°)` : '';
    throw new VolumeError('volume.gantry-tilt', `The slices are sheared by ${shear.toFixed(1)}° against the slice normal: a gantry-tilted acquisition${tag}. Lumen does not resample tilted series; correct the tilt first (3D Slicer or dcm2niix do) and upload the result`, {
      shearDegrees: Number(shear.toFixed(2)),
      gantryDetectorTilt: first.gantryTilt,
    });
  }
  if (gaps.some((g) => Math.abs(g - median) > 0.1 * median)) {
    throw new VolumeError('volume.uneven-slice-spacing', `Slices are unevenly spaced along the slice normal (gaps ${gaps.map((g) => g.toFixed(2)).join(', ')} mm); a missing or stray slice cannot be placed on one grid`, {
      slicePositionsMm: along.map((p) => Number(p.toFixed(3))),
    });
  }
  const size: [number, number, number] = [first.columns, first.rows, placed.length];
  const voxels = size[0] * size[1] * size[2];
  if (voxels > maxVoxels) {
    throw new VolumeError('volume.too-large', `The series has ${voxels} voxels (${size.join('×')}); the limit is ${maxVoxels}`, { voxels, maxVoxels });
  }
  const [rowSpacing, columnSpacing] = first.pixelSpacing;
  const spacingZ = (along[along.length - 1] - along[0]) / (along.length - 1);
  return {
    slices: placed,
    geometry: {
      size,
      spacing: [columnSpacing, rowSpacing, spacingZ],
      origin: [placed[0].position[0], placed[0].position[1], placed[0].position[2]],
      direction: [row[0], column[0], normal[0], row[1], column[1], normal[1], row[2], column[2], normal[2]],
    },
  };
}

/** The report of the chosen series, for the job's params and result. */
export function seriesReport(
  group: DicomSeriesGroup,
  slices: number,
  upload: { dropped: DroppedImages[]; ignored: IgnoredFiles[]; seriesInUpload: number },
): DicomSeriesReport {
  const { uid, name } = transferSyntax(group.headers[0].transferSyntaxUid);
  return {
    seriesUid: group.seriesUid,
    grouping: group.grouping,
    ...(group.key ? { derivedFrom: group.key } : {}),
    description: group.description,
    modality: group.modality,
    transferSyntax: { uid, name },
    multiFrame: group.headers.some((h) => h.frames > 1),
    files: group.headers.length,
    slices,
    ...upload,
    ignoredFiles: upload.ignored.reduce((n, i) => n + i.files, 0),
  };
}
