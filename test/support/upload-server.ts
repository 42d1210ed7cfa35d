// A bare Fastify server with @fastify/multipart whose one route runs receiveMultipart with small
// limits, and a client that streams a body to it over a real socket in chunks: for the unit and
// fuzz tests of the upload limits (libs/http).
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import multipart from '@fastify/multipart';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { ProblemException } from '../../libs/http/src/problem.js';
import { type MultipartLimits, receiveMultipart } from '../../libs/http/src/uploads.js';
import { rawRequest, slices } from './raw-http.js';

export const BOUNDARY = 'lumen-spec';
export const KiB = 1024;

/** A multipart body of file parts (field "image") and text fields, in the order given. */
export function formBody(parts: ({ file: Buffer; name?: string } | { field: string; value: string })[], preamble = Buffer.alloc(0)): Buffer {
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

export type UploadServer = {
  /** Where the route writes uploads (empty again after every request). */
  dir: string;
  /** Streams `body` in 16 KiB chunks without a length (chunked); stops sending once the answer has come. */
  send: (body: Buffer, contentType?: string) => Promise<{ statusCode: number; json: () => Record<string, unknown> }>;
  close: () => Promise<void>;
};

/** Starts the server on a free loopback port; the route answers the files' sizes and field names, or the problem. */
export async function startUploadServer(limits: Omit<MultipartLimits, 'directory' | 'fileFields'>): Promise<UploadServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-uploads-'));
  const fastify: FastifyInstance = new FastifyAdapter().getInstance();
  await fastify.register(multipart as never, { limits: { fields: 100, fieldSize: 256 * KiB }, throwFileSizeLimit: true });
  fastify.post('/upload', async (request, reply) => {
    try {
      const upload = await receiveMultipart(request, { ...limits, directory: dir, fileFields: ['image'] });
      await upload.cleanup();
      return { files: upload.files.map((f) => f.size), fields: Object.keys(upload.fields) };
    } catch (error) {
      if (!(error instanceof ProblemException)) throw error;
      return reply.status(error.getStatus()).send({ problem: error.problem, ...error.extensions });
    }
  });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  const { port } = fastify.server.address() as AddressInfo;
  const send: UploadServer['send'] = async (body, contentType = `multipart/form-data; boundary=${BOUNDARY}`) => {
    const answer = await rawRequest(`http://127.0.0.1:${port}`, { method: 'POST', path: '/upload', headers: { 'content-type': contentType }, chunks: slices(body, 16 * KiB) });
    return { statusCode: answer.status, json: () => JSON.parse(answer.body) };
  };
  return {
    dir,
    send,
    close: async () => {
      await fastify.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
