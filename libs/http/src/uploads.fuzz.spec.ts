// Fuzzing multipart parsing on the wire: receiveMultipart (busboy under our limits) fed bodies
// made of valid parts, hostile headers and raw junk over a real socket. See test/support/fuzz.ts.
import fs from 'node:fs';
import fc from 'fast-check';
import { fuzz, fuzzTimeout } from '../../../test/support/fuzz.js';
import { BOUNDARY, KiB, type UploadServer, formBody, startUploadServer } from '../../../test/support/upload-server.js';

const PROBLEMS = ['malformed-multipart', 'file-too-large', 'upload-too-large', 'too-many-files', 'too-many-parts', 'unexpected-file-field', 'multipart-required'];

/** A part: a file, a field, or a part with hostile headers (names, filenames, encodings). */
const part = fc.oneof(
  fc.record({ file: fc.integer({ min: 0, max: 80 * KiB }).map((n) => Buffer.alloc(n, 9)), name: fc.string({ maxLength: 30 }) }),
  fc.record({ field: fc.string({ minLength: 1, maxLength: 20 }), value: fc.string({ maxLength: 200 }) }),
  fc
    .tuple(fc.string({ maxLength: 120 }), fc.uint8Array({ maxLength: 2000 }))
    .map(([headers, body]) => ({ raw: Buffer.concat([Buffer.from(`--${BOUNDARY}\r\n${headers}\r\n\r\n`), Buffer.from(body), Buffer.from('\r\n')]) })),
);

const body = fc.oneof(
  fc.tuple(fc.array(part, { maxLength: 6 }), fc.uint8Array({ maxLength: 300 }), fc.boolean()).map(([parts, preamble, closed]) => {
    const chunks: Buffer[] = [Buffer.from(preamble)];
    for (const p of parts) chunks.push('raw' in p ? p.raw : formBody(['file' in p ? { file: p.file, name: p.name.replace(/["\r\n]/g, '') } : { field: p.field.replace(/["\r\n]/g, '') || 'f', value: p.value }]).subarray(0, -`--${BOUNDARY}--\r\n`.length));
    if (closed) chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
    return Buffer.concat(chunks);
  }),
  fc.uint8Array({ maxLength: 4000 }).map((b) => Buffer.from(b)),
);

describe('receiveMultipart (fuzzed)', () => {
  let server: UploadServer;
  beforeAll(async () => {
    server = await startUploadServer({ maxFileBytes: 64 * KiB, maxTotalBytes: 200 * KiB, maxBodyBytes: 256 * KiB, maxFiles: 5 });
  });
  afterAll(() => server.close());

  it('answers 200 or a 4xx multipart problem, and leaves no file, whatever the body', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (bytes) => {
        const answer = await server.send(bytes);
        const json = answer.json();
        const ok = answer.statusCode === 200 ? Array.isArray(json.files) : answer.statusCode >= 400 && answer.statusCode < 500 && PROBLEMS.includes(String(json.problem));
        return ok && fs.readdirSync(server.dir).length === 0;
      }),
      fuzz(150),
    );
  }, fuzzTimeout(150, 100));
});
