import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { VolumeError, VolumeFormat } from './volume-io.js';

/** First bytes of a file, through gunzip when it is gzip-compressed. */
async function head(file: string, bytes: number, gzipped: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const stream = fs.createReadStream(file, gzipped ? {} : { end: bytes - 1 });
  const source = gzipped ? stream.pipe(zlib.createGunzip()) : stream;
  try {
    for await (const chunk of source) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total >= bytes) break;
    }
  } catch {
    // A corrupt stream is reported by verifyGzip; here we use what we have.
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

/**
 * The voxel counts a header declares, read without itk-wasm, which cannot even open the
 * header of a volume too large for its 32-bit memory: such uploads must get a 413, not an
 * opaque read error. Null when the header is not one we parse (itk-wasm then decides).
 */
export async function declaredSize(file: string, format: VolumeFormat): Promise<number[] | null> {
  if (format === VolumeFormat.Nifti || format === VolumeFormat.NiftiGz) {
    const h = await head(file, 348, format === VolumeFormat.NiftiGz);
    if (h.length < 348) return null;
    const little = h.readInt32LE(0) === 348;
    if (!little && h.readInt32BE(0) !== 348) return null;
    const read = (o: number) => (little ? h.readInt16LE(o) : h.readInt16BE(o));
    const rank = read(40);
    if (rank < 1 || rank > 7) return null;
    return Array.from({ length: rank }, (_, i) => read(42 + 2 * i));
  }
  if (format === VolumeFormat.Nrrd || format === VolumeFormat.Mha) {
    const text = (await head(file, 65536, false)).toString('latin1');
    const pattern = format === VolumeFormat.Nrrd ? /^sizes:\s*([\d\s]+)$/m : /^DimSize\s*=\s*([\d\s]+)$/m;
    const match = pattern.exec(text);
    return match ? match[1].trim().split(/\s+/).map(Number) : null;
  }
  return null;
}

export async function checkDeclaredSize(file: string, format: VolumeFormat, maxVoxels: number): Promise<void> {
  const sizes = await declaredSize(file, format);
  if (!sizes) return;
  const voxels = sizes.reduce((a, b) => a * Math.max(1, b), 1);
  if (voxels > maxVoxels) {
    throw new VolumeError(413, 'volume-too-large', `The header declares ${sizes.join('×')} = ${voxels} voxels; the limit is ${maxVoxels}`, { voxels, maxVoxels });
  }
}

/** Decompresses a .gz upload to nowhere: a truncated or corrupt stream is a 422 now, not a failed job later. */
export async function verifyGzip(file: string): Promise<void> {
  let bytes = 0;
  try {
    await pipeline(
      fs.createReadStream(file),
      zlib.createGunzip(),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          callback();
        },
      }),
    );
  } catch (error) {
    throw new VolumeError(422, 'corrupt-gzip', `The gzip stream is truncated or corrupt after ${bytes} decompressed bytes (${(error as Error).message})`);
  }
}
