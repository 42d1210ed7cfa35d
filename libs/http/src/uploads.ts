import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpStatus } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from './problem.js';

/** A file part streamed to disk; the client's file name is kept as data only, never as a path. */
export type UploadedFile = { field: string; clientName: string; mimetype: string; path: string; size: number; sha256: string };

export type MultipartBody = {
  files: UploadedFile[];
  fields: Record<string, string>;
  /** Deletes every file of this upload (call in finally unless the files were moved away). */
  cleanup: () => Promise<void>;
};

export type MultipartLimits = {
  /** Where the parts are written (created if absent). */
  directory: string;
  maxFileBytes: number;
  /** Most bytes of all files together (a request of many parts sent without Content-Length). */
  maxTotalBytes?: number;
  /**
   * Most bytes of the whole body as it arrives: parts, text fields, boundaries, and whatever a
   * client sends around them (a preamble busboy skips, an epilogue), chunked or not.
   */
  maxBodyBytes?: number;
  maxFiles: number;
  /** File fields accepted; any other file field is a 400. */
  fileFields: string[];
};

/**
 * Streams every file part of a multipart request to `directory` under a random name, hashing
 * on the fly. Over-size files, unexpected fields and malformed bodies become 4xx problems and
 * leave no file behind.
 */
export async function receiveMultipart(request: FastifyRequest, limits: MultipartLimits): Promise<MultipartBody> {
  if (!request.isMultipart()) {
    throw new ProblemException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'multipart-required', 'Send the upload as multipart/form-data');
  }
  await fs.promises.mkdir(limits.directory, { recursive: true });
  const files: UploadedFile[] = [];
  const fields: Record<string, string> = {};
  const written: string[] = [];
  const maxTotalBytes = limits.maxTotalBytes ?? Number.POSITIVE_INFINITY;
  let totalBytes = 0;
  const cleanup = async () => {
    await Promise.all(written.map((file) => fs.promises.rm(file, { force: true })));
  };
  const body = countBody(request, limits.maxBodyBytes ?? Number.POSITIVE_INFINITY);
  let hasher: Transform | undefined;
  body.overLimit.catch((error: Error) => hasher?.destroy(error));
  try {
    // parts: every file plus the text fields (the global default would cap a folder of files).
    const parts = request.parts({ limits: { fileSize: limits.maxFileBytes, files: limits.maxFiles, parts: limits.maxFiles + 100 } })[Symbol.asyncIterator]();
    for (;;) {
      // The body limit can trip where no file is streaming (a preamble, a text field): it ends the wait for the next part.
      const next = parts.next();
      next.catch(() => undefined); // settles after the race is lost, once the parser is torn down
      const { value: part, done } = await Promise.race([next, body.overLimit]);
      if (done) break;
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      if (!limits.fileFields.includes(part.fieldname)) {
        part.file.resume();
        throw new ProblemException(HttpStatus.BAD_REQUEST, 'unexpected-file-field', `Unexpected file field "${part.fieldname}"; expected ${limits.fileFields.join(' or ')}`);
      }
      const target = path.join(limits.directory, randomUUID());
      written.push(target);
      const hash = createHash('sha256');
      let size = 0;
      hasher = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          size += chunk.length;
          totalBytes += chunk.length;
          if (totalBytes > maxTotalBytes) return callback(Object.assign(new Error('upload too large'), { code: 'LUMEN_UPLOAD_TOO_LARGE' }));
          callback(null, chunk);
        },
      });
      // Busboy stops passing data at the limit but keeps the part open until the client has sent
      // all of it; failing the pipeline now answers 413 while the client is still sending.
      const streaming = hasher;
      const tooLarge = () => streaming.destroy(Object.assign(new Error('file too large'), { code: 'FST_REQ_FILE_TOO_LARGE' }));
      part.file.once('limit', tooLarge);
      try {
        await pipeline(part.file, hasher, fs.createWriteStream(target, { mode: 0o600 }));
      } finally {
        part.file.off('limit', tooLarge);
        hasher = undefined;
      }
      if (part.file.truncated) {
        throw new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, 'file-too-large', `File "${part.fieldname}" is larger than the limit of ${limits.maxFileBytes} bytes`);
      }
      files.push({ field: part.fieldname, clientName: part.filename ?? '', mimetype: part.mimetype, path: target, size, sha256: hash.digest('hex') });
    }
  } catch (error) {
    await cleanup();
    if (error instanceof ProblemException) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') {
      throw new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, 'file-too-large', `A file is larger than the limit of ${limits.maxFileBytes} bytes`);
    }
    if (code === 'LUMEN_UPLOAD_TOO_LARGE') {
      throw new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, 'upload-too-large', `The uploaded files total more than ${maxTotalBytes} bytes (UPLOAD_MAX_BYTES)`, { maxBytes: maxTotalBytes });
    }
    if (code === LUMEN_BODY_TOO_LARGE) {
      throw new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, 'upload-too-large', `The multipart body is larger than ${limits.maxBodyBytes} bytes (UPLOAD_MAX_BYTES and room for the form around the files)`, {
        maxBytes: limits.maxBodyBytes,
      });
    }
    if (code === 'FST_FILES_LIMIT') throw new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, 'too-many-files', `At most ${limits.maxFiles} files per request`);
    if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') throw new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, 'too-many-parts', 'Too many form parts');
    throw new ProblemException(HttpStatus.BAD_REQUEST, 'malformed-multipart', `Malformed multipart body: ${(error as Error).message}`);
  } finally {
    body.stop();
  }
  return { files, fields, cleanup };
}

const LUMEN_BODY_TOO_LARGE = 'LUMEN_BODY_TOO_LARGE';

/**
 * Counts the body's bytes as they come off the socket, beside the multipart parser. `overLimit`
 * rejects once more than `maxBytes` have arrived; it never resolves.
 */
function countBody(request: FastifyRequest, maxBytes: number): { overLimit: Promise<never>; stop: () => void } {
  let fail: (error: Error) => void = () => undefined;
  const overLimit = new Promise<never>((_, reject) => (fail = reject));
  overLimit.catch(() => undefined); // a request that ends another way never looks
  if (!Number.isFinite(maxBytes)) return { overLimit, stop: () => undefined };
  const raw = request.raw;
  let received = 0;
  const count = (chunk: Buffer) => {
    received += chunk.length;
    if (received > maxBytes) {
      raw.off('data', count);
      fail(Object.assign(new Error('body too large'), { code: LUMEN_BODY_TOO_LARGE }));
    }
  };
  // Paused first, so that listening does not start the flow before the parser is piped in
  // (request.parts() pipes the body into busboy, which resumes it): both then see every chunk.
  raw.pause();
  raw.on('data', count);
  return { overLimit, stop: () => raw.off('data', count) };
}
