import { writeImageNode } from '@itk-wasm/image-io';
import type { Image } from 'itk-wasm';
import type { Volume } from './volume-io.js';

/**
 * Writes a scalar volume with its grid (NIfTI when the name ends in .nii/.nii.gz, compressed
 * when it ends in .gz): e.g. a DICOM series as read, for viewers that do not read DICOM.
 */
export async function writeVolume(file: string, volume: Volume): Promise<void> {
  const image = {
    imageType: { dimension: 3, componentType: volume.componentType, pixelType: 'Scalar', components: 1 },
    name: 'image',
    origin: volume.origin,
    spacing: volume.spacing,
    direction: new Float64Array(volume.direction),
    size: volume.size,
    metadata: new Map(),
    data: volume.data,
  } as unknown as Image;
  await writeImageNode(image, file, { useCompression: file.endsWith('.gz') });
}
