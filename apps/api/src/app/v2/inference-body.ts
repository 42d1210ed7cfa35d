import type { Readable } from 'node:stream';
import { HttpStatus, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemException } from '@lumen/http';

/**
 * Bodies of the Open Inference Protocol's infer routes. With the binary tensor extension a body
 * is a JSON header of `Inference-Header-Content-Length` bytes followed by raw tensor bytes;
 * Triton's clients send it without a Content-Type (or as application/octet-stream), and plain
 * JSON requests from them carry no Content-Type either. The header becomes the request body;
 * the bytes after it are kept on the request for @BinaryTensorData().
 */

export const INFERENCE_HEADER_LENGTH = 'inference-header-content-length';

/** The infer routes (Fastify route syntax): the only routes that take these bodies. */
export const INFER_ROUTES: readonly string[] = ['/v2/models/:name/infer', '/v2/models/:name/versions/:version/infer'];

const BINARY = Symbol('binary tensor data');
type WithBinary = FastifyRequest & { [BINARY]?: Buffer };

type Done = (error: Error | null, body?: unknown) => void;
/** Parses JSON text as the API's JSON bodies are parsed (depth check, prototype poisoning refused). */
export type JsonParser = (request: FastifyRequest, text: Buffer, done: Done) => void;

const EMPTY = Buffer.alloc(0);

/** The bytes after the JSON header of this request (empty without the binary tensor extension). */
export const BinaryTensorData = createParamDecorator((_: unknown, context: ExecutionContext): Buffer => {
  return context.switchToHttp().getRequest<WithBinary>()[BINARY] ?? EMPTY;
});

/** True when the request goes to an infer route and announces binary tensor data. */
export function isBinaryInferenceRequest(request: FastifyRequest): boolean {
  return INFER_ROUTES.includes(request.routeOptions.url ?? '') && request.headers[INFERENCE_HEADER_LENGTH] !== undefined;
}

/** Splits `body` at Inference-Header-Content-Length (the whole body is JSON without it) and parses the header. */
export function parseInferenceBody(request: FastifyRequest, body: Buffer, parseJson: JsonParser, done: Done): void {
  const declared = request.headers[INFERENCE_HEADER_LENGTH];
  let length = body.length;
  if (declared !== undefined) {
    const value = Array.isArray(declared) ? declared[0] : declared;
    length = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!(length >= 2 && length <= body.length)) {
      done(new ProblemException(HttpStatus.BAD_REQUEST, 'invalid-inference-header-length', `Inference-Header-Content-Length is "${value}"; it must be the byte length of the JSON header, at most the body's ${body.length} bytes`));
      return;
    }
  }
  (request as WithBinary)[BINARY] = body.subarray(length);
  parseJson(request, body.subarray(0, length), (error, parsed) => {
    // Fastify's own message speaks of a JSON Content-Type this body may not have.
    if (error && !(error instanceof ProblemException)) {
      done(new ProblemException(HttpStatus.BAD_REQUEST, 'bad-request', `The inference request${declared !== undefined ? ` (the first ${length} bytes, Inference-Header-Content-Length)` : ''} is not valid JSON`));
    } else done(error, parsed);
  });
}

/** Reads a request body into memory, refusing it (413) once it passes `limit` bytes. */
async function readBody(payload: Readable, limit: number, declared: number): Promise<Buffer> {
  const tooLarge = (bytes: number) =>
    new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, 'inference-body-too-large', `The inference request body is ${bytes} bytes or more; at most ${limit} are accepted (INFER_MAX_BYTES)`, { maxBytes: limit });
  if (declared > limit) throw tooLarge(declared);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of payload) {
    total += (chunk as Buffer).length;
    if (total > limit) throw tooLarge(total);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Takes bodies of any other Content-Type (or none) on the infer routes, up to `limit` bytes;
 * on every other route such a body is refused with 415, unread, as before.
 */
export function registerInferenceBodyParser(fastify: FastifyInstance, limit: number, parseJson: JsonParser): void {
  fastify.addContentTypeParser('*', (request, payload, done) => {
    if (request.is404) return done(null, undefined);
    if (!INFER_ROUTES.includes(request.routeOptions.url ?? '')) {
      return done(new ProblemException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'unsupported-media-type', `Unsupported Content-Type: ${request.headers['content-type'] ?? ''}`.trim()), undefined);
    }
    readBody(payload as unknown as Readable, limit, Number(request.headers['content-length'] ?? 0)).then(
      (body) => parseInferenceBody(request, body, parseJson, done as Done),
      (error: Error) => done(error, undefined),
    );
  });
}
