import fs from 'node:fs';
import { KiB, type UploadServer, formBody, startUploadServer } from '../../../test/support/upload-server.js';

describe('receiveMultipart: limits while streaming', () => {
  let server: UploadServer;
  beforeAll(async () => {
    server = await startUploadServer({ maxFileBytes: 64 * KiB, maxTotalBytes: 200 * KiB, maxBodyBytes: 256 * KiB, maxFiles: 50 });
  });
  afterAll(() => server.close());

  it('takes a form within every limit', async () => {
    const answer = await server.send(formBody([{ file: Buffer.alloc(10 * KiB, 1) }, { field: 'k', value: '5' }, { file: Buffer.alloc(20 * KiB, 2) }]));
    expect(answer.json()).toEqual({ files: [10 * KiB, 20 * KiB], fields: ['k'] });
  });

  it.each([
    ['many files each under the file limit, over the total of files', formBody(Array.from({ length: 4 }, () => ({ file: Buffer.alloc(60 * KiB, 3) }))), 'upload-too-large', 200 * KiB],
    ['text fields alone past the body limit', formBody(Array.from({ length: 5 }, (_, i) => ({ field: `f${i}`, value: 'x'.repeat(200 * KiB) }))), 'upload-too-large', 256 * KiB],
    ['a preamble of junk that never reaches a boundary', Buffer.alloc(2048 * KiB, 0x41), 'upload-too-large', 256 * KiB],
    ['one file past the file limit', formBody([{ file: Buffer.alloc(100 * KiB, 4) }]), 'file-too-large', undefined],
  ])('answers 413 to %s and leaves no file', async (_what, body, problem, maxBytes) => {
    const answer = await server.send(body);
    expect(answer.statusCode).toBe(413);
    expect(answer.json()).toMatchObject({ problem, ...(maxBytes ? { maxBytes } : {}) });
    expect(fs.readdirSync(server.dir)).toEqual([]);
  });
});
