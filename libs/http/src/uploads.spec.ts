import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import multipart from '@fastify/multipart';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { ProblemException } from './problem.js';
import { receiveMultipart } from './uploads.js';

const BOUNDARY = 'lumen-spec';
const KiB = 1024;

/** A multipart body of file parts (field "image") and text fields, in the order given. */
function formBody(parts: ({ file: Buffer; name?: string } | { field: string; value: string })[], preamble = Buffer.alloc(0)): Buffer {
  const chunks: Buffer[] = [preamble];
  for (const part of parts) {
    if ('file' in part) {
      chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="${part.name ?? 'f.bin'}"\r\nContent-Type: application/octet-stream\r\n\r\n`), part.file, Buffer.from('\r\n'));
    } else {
      chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.field}"\r\n\r\n${part.value}\r\n`));
    }
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

describe('receiveMultipart: limits while streaming', () => {
  let fastify: FastifyInstance;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-uploads-'));
    fastify = new FastifyAdapter().getInstance();
    await fastify.register(multipart as never, { limits: { fields: 100, fieldSize: 256 * KiB }, throwFileSizeLimit: true });
    fastify.post('/upload', async (request, reply) => {
      try {
        const upload = await receiveMultipart(request, { directory: dir, maxFileBytes: 64 * KiB, maxTotalBytes: 200 * KiB, maxBodyBytes: 256 * KiB, maxFiles: 50, fileFields: ['image'] });
        await upload.cleanup();
        return { files: upload.files.map((f) => f.size), fields: Object.keys(upload.fields) };
      } catch (error) {
        if (!(error instanceof ProblemException)) throw error;
        return reply.status(error.getStatus()).send({ problem: error.problem, ...error.extensions });
      }
    });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await fastify.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Sent over a real socket in 16 KiB chunks without a length (chunked, as a client that does not
   * know its size sends it); stops sending once the answer has come.
   */
  const send = (body: Buffer) =>
    new Promise<{ statusCode: number; json: () => Record<string, unknown> }>((resolve, reject) => {
      const { port } = fastify.server.address() as AddressInfo;
      let answered = false;
      const request = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/upload', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } }, (response) => {
        answered = true;
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          request.destroy();
          resolve({ statusCode: response.statusCode ?? 0, json: () => JSON.parse(text) });
        });
      });
      request.on('error', (error) => !answered && reject(error));
      (async () => {
        for (let at = 0; at < body.length && !answered && !request.destroyed; at += 16 * KiB) {
          if (!request.write(body.subarray(at, at + 16 * KiB))) await new Promise((r) => request.once('drain', r));
        }
        if (!answered && !request.destroyed) request.end();
      })().catch(() => undefined);
    });

  it('takes a form within every limit', async () => {
    const answer = await send(formBody([{ file: Buffer.alloc(10 * KiB, 1) }, { field: 'k', value: '5' }, { file: Buffer.alloc(20 * KiB, 2) }]));
    expect(answer.json()).toEqual({ files: [10 * KiB, 20 * KiB], fields: ['k'] });
  });

  it.each([
    ['many files each under the file limit, over the total of files', formBody(Array.from({ length: 4 }, () => ({ file: Buffer.alloc(60 * KiB, 3) }))), 'upload-too-large', 200 * KiB],
    ['text fields alone past the body limit', formBody(Array.from({ length: 5 }, (_, i) => ({ field: `f${i}`, value: 'x'.repeat(200 * KiB) }))), 'upload-too-large', 256 * KiB],
    ['a preamble of junk that never reaches a boundary', Buffer.alloc(2048 * KiB, 0x41), 'upload-too-large', 256 * KiB],
    ['one file past the file limit', formBody([{ file: Buffer.alloc(100 * KiB, 4) }]), 'file-too-large', undefined],
  ])('answers 413 to %s and leaves no file', async (_what, body, problem, maxBytes) => {
    const answer = await send(body);
    expect(answer.statusCode).toBe(413);
    expect(answer.json()).toMatchObject({ problem, ...(maxBytes ? { maxBytes } : {}) });
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
