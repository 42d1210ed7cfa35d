import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import { HttpStatus, type INestApplication, Logger } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { Histogram } from 'prom-client';
import type { LumenConfig } from '@lumen/config';
import { API_KEY_HEADER, PROBLEM_CONTENT_TYPE, ProblemException, createValidationPipe, maxMultipartBodyBytes, rateLimitOptions, toProblem } from '@lumen/http';
import { INFERENCE_HEADER_LENGTH, type JsonParser, isBinaryInferenceRequest, parseInferenceBody, registerInferenceBodyParser } from './app/v2/inference-body.js';
import { createOpenApiDocument } from './openapi.js';

const httpSeconds = new Histogram({
  name: 'lumen_http_request_duration_seconds',
  help: 'HTTP request latency by route and status',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

/** JSON bodies are small by design; uploads go through multipart with their own limit. */
export const JSON_BODY_LIMIT = 8 * 1024 * 1024;

/** Deepest JSON nesting accepted in a body (the deepest legitimate body, score candidates, nests 3). */
export const MAX_JSON_DEPTH = 64;

/** Deepest nesting of arrays and objects in UTF-8 JSON text (strings skipped); stops counting past 10,000. */
export function jsonNestingDepth(text: Uint8Array): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest && (deepest = depth) > 10_000) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * A multipart request whose declared Content-Length cannot fit is refused before a byte of its
 * body is read (the connection is closed so the client stops sending). Chunked uploads have no
 * declared length: the same total is counted while they stream (receiveMultipart), besides the
 * per-file limit.
 */
export function declaredUploadTooLarge(headers: { 'content-type'?: string; 'content-length'?: string }, uploadMaxBytes: number): number | null {
  if (!headers['content-type']?.toLowerCase().startsWith('multipart/')) return null;
  const declared = Number(headers['content-length']);
  return Number.isFinite(declared) && declared > maxMultipartBodyBytes(uploadMaxBytes) ? declared : null;
}

/** Fastify logs each request through the process's logger (see loggingModule). */
export function createFastifyAdapter(logger: PinoLogger): FastifyAdapter {
  return new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: JSON_BODY_LIMIT,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    trustProxy: false,
  });
}

/** Everything HTTP-shaped: hooks, error handling, multipart, validation, Swagger. */
export async function configureHttp(app: NestFastifyApplication, config: LumenConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const logger = new Logger('HTTP');
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-resource-policy', 'same-origin');
    const declared = declaredUploadTooLarge(request.headers as Record<string, string | undefined>, config.uploadMaxBytes);
    if (declared !== null) {
      const problem = toProblem(
        new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, 'upload-too-large', `The request body declares ${declared} bytes; uploads are limited to ${config.uploadMaxBytes} bytes (UPLOAD_MAX_BYTES)`, {
          declaredBytes: declared,
          maxBytes: config.uploadMaxBytes,
        }),
        { url: request.url, id: String(request.id) },
      );
      return reply.status(problem.status).header('connection', 'close').header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
    }
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpSeconds.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  // JSON is parsed as Fastify does by default (prototype poisoning refused), after a cheap scan
  // for nesting depth: thousands of nested arrays would overflow the stack of the recursive
  // transform and validation steps that follow and surface as a 500.
  const defaultJson = fastify.getDefaultJsonParser('error', 'error');
  const parseJson: JsonParser = (request, body, done) => {
    const depth = jsonNestingDepth(body);
    if (depth > MAX_JSON_DEPTH) {
      done(new ProblemException(HttpStatus.BAD_REQUEST, 'json-too-deep', `The JSON body nests ${depth} levels deep; at most ${MAX_JSON_DEPTH} are accepted`), undefined);
      return;
    }
    defaultJson(request, body.toString('utf8'), done);
  };
  app.useBodyParser('application/json', { bodyLimit: JSON_BODY_LIMIT }, (request, body, done) => {
    // An Open Inference Protocol body may carry binary tensors after its JSON header, even when labelled JSON.
    if (isBinaryInferenceRequest(request as FastifyRequest)) parseInferenceBody(request as FastifyRequest, body, parseJson, done);
    else parseJson(request as FastifyRequest, body, done);
  });
  // Binary tensor bodies of the /v2 infer routes (application/octet-stream, or no Content-Type as Triton's clients send).
  registerInferenceBodyParser(fastify, config.inferMaxBytes, parseJson);
  // Errors Fastify raises itself (body parsing, limits) before Nest sees the request: each route
  // gets this handler as its own. Nest installs an instance-wide handler at init, after its routes
  // exist, so that one never reaches them; a second instance-wide handler set here would only be
  // overridden by it (Fastify's FSTWRN004).
  fastify.addHook('onRoute', (route) => {
    route.errorHandler ??= (error, request, reply) => {
      const problem = toProblem(error, { url: request.url, id: String(request.id) });
      if (problem.status >= 500 && problem.status !== 503) logger.error(`${request.method} ${request.url} [${request.id}]: ${(error as Error)?.stack ?? String(error)}`);
      if (problem.status === 503) reply.header('retry-after', '5');
      reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
    };
  });
  await app.register(multipart as never, {
    limits: { fileSize: config.uploadMaxBytes, files: 1000, fields: 100, fieldSize: 1024 * 1024, parts: 1100 },
    throwFileSizeLimit: true,
  });
  // Per-key limits, counted by the API-key guard once it knows the key (in memory; see rateLimitOptions for a shared store).
  await app.register(rateLimit as never, rateLimitOptions(config.rateLimitPerMinute));
  app.useGlobalPipes(createValidationPipe());
  // CORS stays off (no Access-Control-* headers) unless origins are configured.
  // The binary tensor extension of /v2 travels with its own header both ways.
  if (config.corsOrigins.length) {
    app.enableCors({ origin: config.corsOrigins, allowedHeaders: ['content-type', API_KEY_HEADER, INFERENCE_HEADER_LENGTH], exposedHeaders: ['x-request-id', 'retry-after', INFERENCE_HEADER_LENGTH] });
  }

  const document = createOpenApiDocument(app as unknown as INestApplication, config);
  SwaggerModule.setup('docs', app as unknown as INestApplication, document, { jsonDocumentUrl: 'docs/openapi.json', yamlDocumentUrl: 'docs/openapi.yaml' });
}
