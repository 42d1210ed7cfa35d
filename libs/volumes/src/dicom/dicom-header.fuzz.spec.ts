// Fuzzing DICOM header reading (our signature sniff, dcmjs under our read loop) with damaged files.
// See test/support/fuzz.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import fc from 'fast-check';
import { part10, tinySlices, withoutMeta, withoutPreamble } from '../../../../test/support/dicom-fixtures.js';
import { fuzz, fuzzTimeout } from '../../../../test/support/fuzz.js';
import { VolumeError } from '../volume-error.js';
import { readDicomHeader } from './dicom-header.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-fuzz-dicom-'));
  // dcmjs reports what it skips in damaged files on the console: thousands of lines here.
  for (const level of ['log', 'info', 'warn', 'error'] as const) jest.spyOn(console, level).mockImplementation(() => undefined);
});
afterAll(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const SOURCES = (() => {
  const slice = part10(tinySlices()[0]);
  return [slice, withoutPreamble(slice), withoutMeta(slice)];
})();

/** A real slice (Part-10, no preamble, bare dataset), cut and with bytes overwritten, mostly in the header. */
const damaged = fc
  .record({
    source: fc.constantFrom(0, 1, 2),
    cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
    writes: fc.array(fc.tuple(fc.integer({ min: 0, max: 1200 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
  })
  .map(({ source, cut, writes }) => {
    let bytes = Buffer.from(SOURCES[source]);
    for (const [at, value] of writes) if (at < bytes.length) bytes[at] = value;
    if (cut !== null) bytes = bytes.subarray(0, Math.floor(bytes.length * cut));
    return bytes;
  });

describe('readDicomHeader (fuzzed)', () => {
  it('gives a header, null (not DICOM) or a 422 naming the file; never another error', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(damaged, fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b))), async (bytes) => {
        const file = path.join(dir, `f${run++}`);
        fs.writeFileSync(file, bytes);
        try {
          const header = await readDicomHeader(file, 'upload.dcm');
          return header === null || (header.name === 'upload.dcm' && header.frames >= 1 && header.positions.length >= 1);
        } catch (error) {
          if (!(error instanceof VolumeError)) throw error;
          return error.code === 'volume.unreadable-dicom-file' && error.message.startsWith('"upload.dcm"');
        } finally {
          fs.rmSync(file, { force: true });
        }
      }),
      fuzz(300),
    );
  }, fuzzTimeout(300, 50));
});
