// Fuzzing the NIfTI header peek and the gzip guard (see test/support/fuzz.ts for how to run it long).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { fuzz, fuzzTimeout } from '../../../test/support/fuzz.js';
import { nifti } from '../../../test/fixtures/bad-inputs/generate.js';
import { declaredSize, niftiDeclaredBytes, verifyGzip } from './header-peek.js';
import { VolumeError } from './volume-error.js';
import { VolumeFormat } from './volume-io.js';

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-fuzz-peek-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let serial = 0;
function fileOf(bytes: Uint8Array): string {
  const file = path.join(dir, `f${serial++}`);
  fs.writeFileSync(file, bytes);
  return file;
}

/** A NIfTI-1 header (352 bytes) with some fields overwritten by the fuzzer, at their offsets. */
const mutatedHeader = fc
  .record({
    dims: fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 7 }),
    bitpix: fc.integer({ min: -32768, max: 32767 }),
    voxOffset: fc.oneof(fc.float(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -1, 0, 352, 1e30)),
    flips: fc.array(fc.tuple(fc.integer({ min: 0, max: 351 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    bigEndian: fc.boolean(),
  })
  .map(({ dims, bitpix, voxOffset, flips, bigEndian }) => {
    const h = nifti([1, 1, 1], { data: Buffer.alloc(0) });
    const i16 = (v: number, at: number) => (bigEndian ? h.writeInt16BE(v, at) : h.writeInt16LE(v, at));
    if (bigEndian) h.writeInt32BE(348, 0);
    i16(dims.length, 40);
    dims.forEach((d, i) => i16(d, 42 + 2 * i));
    i16(bitpix, 72);
    if (bigEndian) h.writeFloatBE(voxOffset, 108);
    else h.writeFloatLE(voxOffset, 108);
    for (const [at, value] of flips) if (at > 3) h[at] = value;
    return h;
  });

describe('niftiDeclaredBytes (fuzzed)', () => {
  it('gives null or a finite byte count no smaller than the header, whatever the 540 bytes hold', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), mutatedHeader), (bytes) => {
        const declared = niftiDeclaredBytes(Buffer.from(bytes));
        return declared === null || (Number.isFinite(declared) && declared >= 348);
      }),
      fuzz(2000),
    );
  });

  it('regression: a NaN or infinite vox_offset is not a NIfTI header (a NaN limit once disabled the gzip-bomb guard)', () => {
    for (const offset of [Number.NaN, Infinity, -Infinity]) {
      const header = nifti([16, 16, 16]);
      header.writeFloatLE(offset, 108);
      expect(niftiDeclaredBytes(header)).toBeNull();
    }
  });
});

describe('declaredSize (fuzzed)', () => {
  it('reads sizes or null from any NIfTI, NRRD or MHA head, and refuses only a corrupt gzip', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.uint8Array({ maxLength: 800 }), mutatedHeader, fc.string({ maxLength: 300 }).map((t) => Buffer.from(`NRRD0004\nsizes: ${t}\n`)), fc.string({ maxLength: 300 }).map((t) => Buffer.from(`ObjectType = Image\nDimSize = ${t}\n`))),
        fc.constantFrom(VolumeFormat.Nifti, VolumeFormat.NiftiGz, VolumeFormat.Nrrd, VolumeFormat.Mha),
        fc.boolean(),
        async (bytes, format, gzipIt) => {
          const file = fileOf(gzipIt ? zlib.gzipSync(bytes) : bytes);
          try {
            const sizes = await declaredSize(file, format);
            return sizes === null || (sizes.length > 0 && sizes.every((n) => Number.isInteger(n) || n === Infinity));
          } catch (error) {
            return error instanceof VolumeError && error.code === 'volume.corrupt-gzip' && format === VolumeFormat.NiftiGz;
          }
        },
      ),
      fuzz(300),
    );
  }, fuzzTimeout(300, 20));
});

describe('verifyGzip (fuzzed)', () => {
  /** gzip of a (mutated) NIfTI header and `extra` bytes, maybe cut short or with a flipped byte. */
  const gzipUpload = fc
    .record({ header: mutatedHeader, extra: fc.integer({ min: 0, max: 1 << 16 }), cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true })), flip: fc.option(fc.nat()) })
    .map(({ header, extra, cut, flip }) => {
      let bytes = zlib.gzipSync(Buffer.concat([header, Buffer.alloc(extra, 7)]));
      if (cut !== null) bytes = bytes.subarray(0, Math.floor(bytes.length * cut));
      if (flip !== null && bytes.length) bytes[flip % bytes.length] ^= 0x5a;
      return { bytes, plain: Buffer.concat([header, Buffer.alloc(extra, 7)]) };
    });

  it('passes a stream only when it is whole and within what its header declares; anything else is a VolumeError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(gzipUpload, fc.uint8Array({ maxLength: 2000 }).map((b) => ({ bytes: Buffer.from(b), plain: null }))), async ({ bytes, plain }) => {
        const file = fileOf(bytes);
        try {
          await verifyGzip(file);
        } catch (error) {
          return error instanceof VolumeError && ['volume.corrupt-gzip', 'volume.not-nifti', 'volume.gzip-bomb'].includes(error.code);
        }
        // Accepted: it inflates, to no more than its header declares (+1 MiB).
        const inflated = zlib.gunzipSync(bytes);
        const declared = niftiDeclaredBytes(inflated.subarray(0, 540));
        return declared !== null && inflated.length <= declared + (1 << 20) && (plain === null || inflated.equals(plain));
      }),
      fuzz(200),
    );
  }, fuzzTimeout(200, 30));
});
