import fs from 'node:fs';
import path from 'node:path';
import { readDicomTagsNode, readImageDicomFileSeriesNode } from '@itk-wasm/dicom';
import { readImageNode, writeImageNode } from '@itk-wasm/image-io';
import { unzipSync } from 'fflate';
import type { Image } from 'itk-wasm';
import type { NumericArray } from './kernels/grid.js';
import type { Geometry } from './geometry.js';
import { VolumeError } from './volume-error.js';

export enum VolumeFormat {
  Nifti = 'nifti',
  NiftiGz = 'nifti-gz',
  Nrrd = 'nrrd',
  Mha = 'mha',
  DicomZip = 'dicom-zip',
}

const EXTENSIONS: [string, VolumeFormat][] = [
  ['.nii.gz', VolumeFormat.NiftiGz],
  ['.nii', VolumeFormat.Nifti],
  ['.nrrd', VolumeFormat.Nrrd],
  ['.mha', VolumeFormat.Mha],
  ['.zip', VolumeFormat.DicomZip],
];

/** The file extension itk-wasm needs to pick a reader (the upload itself is stored under a random name). */
export function extensionOf(format: VolumeFormat): string {
  return EXTENSIONS.find(([, f]) => f === format)![0];
}

/** The format named by a client's file name; the name is used for nothing else. */
export function formatFromFileName(name: string): VolumeFormat {
  const lower = name.toLowerCase();
  const match = EXTENSIONS.find(([ext]) => lower.endsWith(ext));
  if (!match) {
    throw new VolumeError('volume.unsupported-format', `"${path.basename(name)}" is not a supported volume: use .nii, .nii.gz, .nrrd, .mha or a .zip of one DICOM series`);
  }
  return match[1];
}

export type Volume = Geometry & { data: NumericArray; componentType: string };

function imageGeometry(image: Image): Geometry {
  return {
    size: [image.size[0], image.size[1], image.size[2]],
    spacing: [image.spacing[0], image.spacing[1], image.spacing[2]],
    origin: [image.origin[0], image.origin[1], image.origin[2]],
    direction: Array.from(image.direction as Float64Array),
  };
}

const SCALAR_TYPES = new Set(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64']);

/** Checks what a header says before any pixel is read: 3D, scalar, within the voxel limit. */
export function checkHeader(image: Image, maxVoxels: number): Geometry {
  const { dimension, pixelType, components, componentType } = image.imageType;
  if (dimension !== 3) {
    throw new VolumeError('volume.not-3d', `The image is ${dimension}D (size ${image.size.join('×')}); a 3D CT volume is required`, { dimension, size: image.size });
  }
  if (pixelType !== 'Scalar' || components !== 1) {
    throw new VolumeError('volume.unsupported-pixel-type', `Pixels are ${pixelType} with ${components} components; a scalar (one value per voxel) CT is required`);
  }
  if (!SCALAR_TYPES.has(componentType)) throw new VolumeError('volume.unsupported-pixel-type', `Pixel component type ${componentType} is not supported`);
  const g = imageGeometry(image);
  const voxels = g.size[0] * g.size[1] * g.size[2];
  if (g.size.some((n) => !(n >= 1))) throw new VolumeError('volume.empty', `The volume has size ${g.size.join('×')}`);
  if (voxels > maxVoxels) {
    throw new VolumeError('volume.too-large', `The volume has ${voxels} voxels (${g.size.join('×')}); the limit is ${maxVoxels}`, { voxels, maxVoxels });
  }
  if (g.spacing.some((s) => !(s > 0) || !Number.isFinite(s))) throw new VolumeError('volume.invalid-spacing', `Voxel spacing ${g.spacing.join(' × ')} mm is not positive`);
  return g;
}

/** An itk-wasm message without the server's file paths (they name our storage, not the client's file). */
function withoutPaths(message: string): string {
  return message.replace(/(?:[A-Za-z]:)?[\\/][^\s'"]*[\\/]([^\s'"\\/]+)/g, '$1').slice(0, 200);
}

async function readWithItk(file: string, informationOnly: boolean): Promise<Image> {
  try {
    return await readImageNode(file, informationOnly ? { informationOnly: true } : undefined);
  } catch (error) {
    // itk-wasm reports a failed read as a bare number or a terse message.
    throw new VolumeError('volume.unreadable', `The file could not be read as a volume (corrupt, truncated or not this format): ${withoutPaths(String((error as Error)?.message ?? error))}`);
  }
}

/** Reads only the header of a NIfTI/NRRD/MHA file and checks it. */
export async function readVolumeHeader(file: string, maxVoxels: number): Promise<Geometry> {
  return checkHeader(await readWithItk(file, true), maxVoxels);
}

/** Reads a NIfTI/NRRD/MHA volume with its pixels, checking header and data size. */
export async function readVolume(file: string, maxVoxels: number): Promise<Volume> {
  const image = await readWithItk(file, false);
  const g = checkHeader(image, maxVoxels);
  const expected = g.size[0] * g.size[1] * g.size[2];
  if (!image.data || image.data.length !== expected) {
    throw new VolumeError('volume.data-size-mismatch', `The header declares ${expected} voxels but the file holds ${image.data?.length ?? 0}`);
  }
  return { ...g, data: image.data as NumericArray, componentType: image.imageType.componentType };
}

/** Writes a uint8 label map on the given grid (compressed when the name ends in .gz). */
export async function writeLabelMap(file: string, labels: Uint8Array, g: Geometry): Promise<void> {
  const image: Image = {
    imageType: { dimension: 3, componentType: 'uint8', pixelType: 'Scalar', components: 1 },
    name: 'labels',
    origin: g.origin,
    spacing: g.spacing,
    direction: new Float64Array(g.direction),
    size: g.size,
    metadata: new Map(),
    data: labels,
  } as unknown as Image;
  await writeImageNode(image, file, { useCompression: file.endsWith('.gz') });
}

// ------------------------------------------------------------------------------------ DICOM

export type DicomSeries = { seriesUid: string; description: string; modality: string; files: string[] };

export type ZipLimits = { maxEntries: number; maxUncompressedBytes: number };

/**
 * Extracts a zip of DICOM files into `directory` under generated names (entry names never
 * become paths). Refuses traversal, absolute paths, nested archives and zip bombs.
 */
export function extractDicomZip(zipFile: string, directory: string, limits: ZipLimits): string[] {
  const bytes = fs.readFileSync(zipFile);
  const links = zipSymlinkEntries(bytes);
  if (links.length) throw new VolumeError('volume.unsafe-zip-entry', `Zip entry "${links[0]}" is a symbolic link; upload regular DICOM files only`, { entries: links.slice(0, 20) });
  let total = 0;
  let entries;
  try {
    entries = unzipSync(bytes, {
      filter: (entry) => {
        const name = entry.name.replace(/\\/g, '/');
        if (name.endsWith('/')) return false;
        if (name.startsWith('/') || /^[a-zA-Z]:/.test(name) || name.split('/').includes('..')) {
          throw new VolumeError('volume.unsafe-zip-entry', `Zip entry "${entry.name}" points outside the archive`);
        }
        if (name.startsWith('__MACOSX/') || name.endsWith('.DS_Store')) return false;
        if (/\.(zip|gz|tgz|tar|7z|rar)$/i.test(name)) throw new VolumeError('volume.nested-archive', `Zip entry "${entry.name}" is an archive; upload one flat zip of DICOM files`);
        total += entry.originalSize;
        if (total > limits.maxUncompressedBytes) {
          throw new VolumeError('volume.zip-too-large', `The zip expands to more than ${limits.maxUncompressedBytes} bytes`);
        }
        return true;
      },
    });
  } catch (error) {
    if (error instanceof VolumeError) throw error;
    throw new VolumeError('volume.invalid-zip', `The upload is not a readable zip archive: ${(error as Error).message}`);
  }
  const names = Object.keys(entries);
  if (names.length === 0) throw new VolumeError('volume.empty-zip', 'The zip holds no files');
  if (names.length > limits.maxEntries) throw new VolumeError('volume.too-many-zip-entries', `The zip holds ${names.length} files; the limit is ${limits.maxEntries}`);
  fs.mkdirSync(directory, { recursive: true });
  return names.map((name, index) => {
    const data = entries[name];
    if (data.length >= 4 && data[0] === 0x50 && data[1] === 0x4b && data[2] === 0x03 && data[3] === 0x04) {
      throw new VolumeError('volume.nested-archive', `Zip entry "${name}" is itself a zip; upload one flat zip of DICOM files`);
    }
    const target = path.join(directory, `${String(index).padStart(6, '0')}.dcm`);
    fs.writeFileSync(target, data);
    return target;
  });
}

/**
 * Names of the entries a zip's central directory marks as Unix symbolic links (made by Unix,
 * S_IFLNK in the external attributes). fflate would extract them as small files holding the
 * link target; they are refused instead, as unzip tools would create real links.
 */
export function zipSymlinkEntries(bytes: Uint8Array): string[] {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let i = view.length - 22; i >= Math.max(0, view.length - 22 - 65_535); i--) {
    if (view.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) return [];
  const count = view.readUInt16LE(end + 10);
  let at = view.readUInt32LE(end + 16);
  const links: string[] = [];
  for (let n = 0; n < count && at + 46 <= view.length && view.readUInt32LE(at) === 0x02014b50; n++) {
    const madeBy = view.readUInt16LE(at + 4) >> 8;
    const nameLength = view.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + view.readUInt16LE(at + 30) + view.readUInt16LE(at + 32);
    const mode = view.readUInt32LE(at + 38) >>> 16;
    if (madeBy === 3 && (mode & 0o170000) === 0o120000) links.push(view.toString('utf8', at + 46, at + 46 + nameLength));
    at = next;
  }
  return links;
}

const TAGS = { seriesUid: '0020|000e', modality: '0008|0060', description: '0008|103e', position: '0020|0032', orientation: '0020|0037' };

type DicomFileTags = { file: string; seriesUid: string; modality: string; description: string; position: number[] | null; orientation: number[] | null };

async function readTags(file: string): Promise<DicomFileTags | null> {
  try {
    const { tags } = await readDicomTagsNode(path.resolve(file), { tagsToRead: { tags: Object.values(TAGS) } });
    const map = new Map(tags.map(([k, v]) => [k.toLowerCase(), v.trim()]));
    const seriesUid = map.get(TAGS.seriesUid);
    if (!seriesUid) return null;
    const numbers = (value?: string) => (value ? value.split('\\').map(Number) : null);
    return {
      file,
      seriesUid,
      modality: map.get(TAGS.modality) ?? '',
      description: map.get(TAGS.description) ?? '',
      position: numbers(map.get(TAGS.position)),
      orientation: numbers(map.get(TAGS.orientation)),
    };
  } catch {
    return null;
  }
}

/** Groups DICOM files by SeriesInstanceUID; files that are not DICOM are ignored. */
export async function groupDicomSeries(files: string[]): Promise<(DicomSeries & { tags: DicomFileTags[] })[]> {
  const tagged = (await Promise.all(files.map(readTags))).filter((t): t is DicomFileTags => t !== null);
  if (!tagged.length) throw new VolumeError('volume.no-dicom-files', 'The zip holds no readable DICOM files');
  const series = new Map<string, DicomFileTags[]>();
  for (const t of tagged) series.set(t.seriesUid, [...(series.get(t.seriesUid) ?? []), t]);
  return [...series.entries()].map(([seriesUid, tags]) => ({
    seriesUid,
    description: tags[0].description,
    modality: tags[0].modality,
    files: tags.map((t) => t.file),
    tags,
  }));
}

/**
 * Picks the series to read: the only one, or the one named by `seriesUid`. Several series and
 * no choice is a 422 listing them, so the client can choose.
 */
export function chooseSeries<T extends DicomSeries>(series: T[], seriesUid?: string): T {
  const summary = series.map((s) => ({ seriesUid: s.seriesUid, description: s.description, modality: s.modality, files: s.files.length }));
  if (seriesUid) {
    const chosen = series.find((s) => s.seriesUid === seriesUid);
    if (!chosen) throw new VolumeError('volume.unknown-series', `The zip has no series ${seriesUid}`, { series: summary });
    return chosen;
  }
  if (series.length > 1) {
    throw new VolumeError('volume.multiple-series', `The zip holds ${series.length} DICOM series; choose one with the seriesUid field`, { series: summary });
  }
  return series[0];
}

/**
 * Slices must be evenly spaced along the slice normal for a volume to have one spacing; a
 * series with a gap (a missing slice, a stray localizer) would otherwise be silently stretched.
 */
export function checkSliceSpacing(tags: DicomFileTags[]): void {
  if (tags.length < 2) throw new VolumeError('volume.single-slice', 'The series has one slice; a 3D volume needs several');
  const orientation = tags[0].orientation;
  if (!orientation || orientation.length !== 6 || tags.some((t) => !t.position || t.position.length !== 3)) return;
  const [r0, r1, r2, c0, c1, c2] = orientation;
  const normal = [r1 * c2 - r2 * c1, r2 * c0 - r0 * c2, r0 * c1 - r1 * c0];
  const positions = tags.map((t) => t.position![0] * normal[0] + t.position![1] * normal[1] + t.position![2] * normal[2]).sort((a, b) => a - b);
  const gaps = positions.slice(1).map((p, i) => p - positions[i]);
  const sorted = [...gaps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  if (median <= 1e-3) throw new VolumeError('volume.duplicate-slices', 'Several slices share the same position');
  if (gaps.some((g) => Math.abs(g - median) > 0.1 * median)) {
    throw new VolumeError('volume.uneven-slice-spacing', `Slices are unevenly spaced along the slice normal (gaps ${gaps.map((g) => g.toFixed(2)).join(', ')} mm); a missing or stray slice cannot be placed on one grid`, {
      slicePositionsMm: positions.map((p) => Number(p.toFixed(3))),
    });
  }
}

/** Reads one DICOM series (files already checked with checkSliceSpacing) as a volume. */
export async function readDicomSeries(files: string[], maxVoxels: number): Promise<Volume> {
  let image: Image;
  try {
    ({ outputImage: image } = await readImageDicomFileSeriesNode({ inputImages: files.map((f) => path.resolve(f)), singleSortedSeries: false }));
  } catch (error) {
    throw new VolumeError('volume.unreadable-dicom', `The DICOM series could not be read: ${withoutPaths(String((error as Error)?.message ?? error))}`);
  }
  const g = checkHeader(image, maxVoxels);
  return { ...g, data: image.data as NumericArray, componentType: image.imageType.componentType };
}
