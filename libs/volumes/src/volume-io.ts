import path from 'node:path';
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom';
import { readImageNode, writeImageNode } from '@itk-wasm/image-io';
import type { Image } from 'itk-wasm';
import type { NumericArray } from './kernels/grid.js';
import type { Geometry } from './geometry.js';
import { VolumeError } from './volume-error.js';

export enum VolumeFormat {
  Nifti = 'nifti',
  NiftiGz = 'nifti-gz',
  Nrrd = 'nrrd',
  Mha = 'mha',
  /** A DICOM series: uploaded as a zip or as many files (the name is historical). */
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

/** The format a client's file name names, or null when its extension is none of ours. */
export function formatOfFileName(name: string): VolumeFormat | null {
  const lower = name.toLowerCase();
  return EXTENSIONS.find(([ext]) => lower.endsWith(ext))?.[1] ?? null;
}

/** The format named by a client's file name; the name is used for nothing else. */
export function formatFromFileName(name: string): VolumeFormat {
  const match = formatOfFileName(name);
  if (!match) {
    throw new VolumeError('volume.unsupported-format', `"${path.basename(name)}" is not a supported volume: use .nii, .nii.gz, .nrrd, .mha, a .zip of DICOM files or the DICOM files themselves`);
  }
  return match;
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

/**
 * Reads one DICOM series (files already grouped and checked by seriesGeometry, in Part-10 form)
 * as a volume, pixels decoded: the worker's heavy step.
 */
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
