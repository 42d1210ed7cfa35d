import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { VolumeError } from './volume-error.js';
import { VolumeFormat } from './volume-io.js';

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
  } catch (error) {
    // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR...) are the upload's fault; a read error is not.
    if (!/^Z_/.test(String((error as { code?: string }).code))) throw error;
    throw new VolumeError('volume.corrupt-gzip', `The gzip stream is truncated or corrupt within its first ${total} decompressed bytes (${(error as Error).message})`);
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
    throw new VolumeError('volume.too-large', `The header declares ${sizes.join('×')} = ${voxels} voxels; the limit is ${maxVoxels}`, { voxels, maxVoxels });
  }
}

/** Room past the data a NIfTI header declares (trailing padding some writers add). */
const NIFTI_GZ_SLACK_BYTES = 1024 * 1024;

/**
 * Bytes a NIfTI-1 or NIfTI-2 single-file image holds (vox_offset + voxels × bitpix / 8), from
 * its header; null when `header` is not a NIfTI header (magic size, rank 1–7, a finite vox_offset).
 */
export function niftiDeclaredBytes(header: Buffer): number | null {
  if (header.length >= 348 && (header.readInt32LE(0) === 348 || header.readInt32BE(0) === 348)) {
    const little = header.readInt32LE(0) === 348;
    const i16 = (o: number) => (little ? header.readInt16LE(o) : header.readInt16BE(o));
    const rank = i16(40);
    if (rank < 1 || rank > 7) return null;
    const voxels = Array.from({ length: rank }, (_, i) => Math.max(1, i16(42 + 2 * i))).reduce((a, b) => a * b, 1);
    const offset = little ? header.readFloatLE(108) : header.readFloatBE(108);
    // A NaN vox_offset once made the byte limit NaN, and `bytes > NaN` never trips (found by fuzzing).
    if (!Number.isFinite(offset)) return null;
    return Math.max(352, offset) + (voxels * Math.max(1, i16(72))) / 8;
  }
  if (header.length >= 540 && (header.readInt32LE(0) === 540 || header.readInt32BE(0) === 540)) {
    const little = header.readInt32LE(0) === 540;
    const i64 = (o: number) => Number(little ? header.readBigInt64LE(o) : header.readBigInt64BE(o));
    const rank = i64(16);
    if (rank < 1 || rank > 7) return null;
    const voxels = Array.from({ length: rank }, (_, i) => Math.max(1, i64(24 + 8 * i))).reduce((a, b) => a * b, 1);
    const bitpix = little ? header.readInt16LE(14) : header.readInt16BE(14);
    return Math.max(544, i64(168)) + (voxels * Math.max(1, bitpix)) / 8;
  }
  return null;
}

/**
 * Decompresses a .nii.gz upload to nowhere: a truncated or corrupt stream is a 422 now, not a
 * failed job later. The stream may expand only to what its NIfTI header declares: a gzip bomb
 * (a small header followed by gigabytes of zeros) is stopped as soon as it passes that, and a
 * stream that does not start with a NIfTI header is refused after its first bytes.
 */
export async function verifyGzip(file: string): Promise<void> {
  let bytes = 0;
  let head = Buffer.alloc(0);
  let limit = Number.POSITIVE_INFINITY;
  const check = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (limit === Number.POSITIVE_INFINITY && head.length < 540) {
        head = Buffer.concat([head, chunk.subarray(0, 540 - head.length)]);
        const declared = niftiDeclaredBytes(head);
        if (declared !== null) limit = declared + NIFTI_GZ_SLACK_BYTES;
        else if (head.length >= 540) return callback(new VolumeError('volume.not-nifti', 'The gzip stream does not start with a valid NIfTI-1 or NIfTI-2 header (header size 348 or 540, rank 1–7, a finite vox_offset)'));
      }
      if (bytes > limit) {
        return callback(new VolumeError('volume.gzip-bomb', `The gzip stream expands past ${limit} bytes, more than its NIfTI header declares (${limit - NIFTI_GZ_SLACK_BYTES} bytes)`, { declaredBytes: limit - NIFTI_GZ_SLACK_BYTES }));
      }
      callback();
    },
  });
  try {
    await pipeline(fs.createReadStream(file), zlib.createGunzip(), check);
  } catch (error) {
    if (error instanceof VolumeError) throw error;
    throw new VolumeError('volume.corrupt-gzip', `The gzip stream is truncated or corrupt after ${bytes} decompressed bytes (${(error as Error).message})`);
  }
  if (niftiDeclaredBytes(head) === null) throw new VolumeError('volume.not-nifti', `The gzip stream holds ${bytes} bytes, not a NIfTI image`);
}
