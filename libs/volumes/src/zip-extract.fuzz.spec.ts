// Fuzzing the zip central-directory reader (yauzl under our entry checks): test/support/fuzz.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { fuzz, fuzzTimeout } from '../../../test/support/fuzz.js';
import { VolumeError } from './volume-error.js';
import { extractZip } from './zip-extract.js';

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-fuzz-zip-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const LIMITS = { maxEntries: 20, maxUncompressedBytes: 64 * 1024 };
const ZIP_CODES = ['volume.invalid-zip', 'volume.unsafe-zip-entry', 'volume.nested-archive', 'volume.zip-too-large', 'volume.too-many-zip-entries', 'volume.empty-zip'];

/** Entry names a hostile archive could carry: traversal, absolute, drive letters, backslashes, unicode. */
const entryName = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,8}(\/[a-z0-9]{1,8}){0,2}(\.dcm)?$/),
  fc.constantFrom('../evil.dcm', '/etc/passwd', 'C:\\x.dcm', 'a\\..\\..\\b.dcm', 'a/../../b', '__MACOSX/._a', 'x.zip', 'y.tar', '\u00e9\u4e2d.dcm', 'a\u0000b.dcm'),
  fc.string({ minLength: 1, maxLength: 12 }),
).filter((name) => !name.endsWith('/') && name !== '__proto__'); // fflate takes these for a folder, a prototype

/** A zip made by fflate, then maybe cut and with bytes overwritten (the central directory is at the end). */
const hostileZip = fc
  .record({
    entries: fc.dictionary(entryName, fc.uint8Array({ maxLength: 3000 }), { maxKeys: 25 }),
    level: fc.constantFrom(0, 6),
    cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
    writes: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  })
  .map(({ entries, level, cut, writes }) => {
    let bytes = Buffer.from(zipSync(Object.fromEntries(Object.entries(entries).map(([n, b]) => [n, [b, { level }]])) as never));
    for (const [at, value] of writes) if (bytes.length) bytes[Math.min(bytes.length - 1, Math.floor(at * bytes.length))] = value;
    if (cut !== null) bytes = bytes.subarray(0, Math.floor(bytes.length * cut));
    return bytes;
  });

describe('extractZip (fuzzed)', () => {
  it('writes only generated names inside its directory, within the limits, or refuses with a zip problem', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileZip, fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.concat([Buffer.from('PK\x03\x04'), b]))), async (bytes) => {
        const zipFile = path.join(dir, `in-${run}.zip`);
        const out = path.join(dir, `out-${run++}`);
        fs.writeFileSync(zipFile, bytes);
        try {
          const files = await extractZip(zipFile, out, LIMITS);
          const written = fs.readdirSync(out, { recursive: true }) as string[];
          const total = files.reduce((n, f) => n + fs.statSync(f.path).size, 0);
          return (
            files.length > 0 &&
            files.length <= LIMITS.maxEntries &&
            total <= LIMITS.maxUncompressedBytes &&
            files.every((f, i) => f.path === path.join(out, `${String(i).padStart(6, '0')}.dcm`)) &&
            written.length === files.length &&
            files.every((f) => !f.name.split('/').includes('..') && !f.name.startsWith('/'))
          );
        } catch (error) {
          if (!(error instanceof VolumeError) || !ZIP_CODES.includes(error.code)) throw error;
          // Nothing written outside `out`.
          return fs.readdirSync(dir).every((name) => name.startsWith('in-') || name.startsWith('out-'));
        } finally {
          fs.rmSync(out, { recursive: true, force: true });
          fs.rmSync(zipFile, { force: true });
        }
      }),
      fuzz(300),
    );
  }, fuzzTimeout(300, 30));
});
