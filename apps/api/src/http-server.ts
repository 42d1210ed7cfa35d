import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { Histogram } from 'prom-client';
import type { LumenConfig } from '@lumen/config';
import { API_KEY_HEADER, PROBLEM_CONTENT_TYPE, createValidationPipe, toProblem } from '@lumen/http';
import { ProblemDto } from './app/problem-responses.js';

const httpSeconds = new Histogram({
  name: 'lumen_http_request_duration_seconds',
  help: 'HTTP request latency by route and status',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

/** JSON bodies are small by design; uploads go through multipart with their own limit. */
export const JSON_BODY_LIMIT = 8 * 1024 * 1024;

export function createFastifyAdapter(logger: Logger): FastifyAdapter {
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
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-resource-policy', 'same-origin');
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpSeconds.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  // Errors Fastify raises itself (body parsing, limits) before Nest sees the request. This
  // replaces the handler Nest's adapter installed (Fastify warns once, FSTWRN004).
  fastify.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, { url: request.url, id: String(request.id) });
    if (problem.status >= 500) request.log.error({ err: error }, 'unhandled error');
    reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
  });
  await app.register(multipart as never, {
    limits: { fileSize: config.uploadMaxBytes, files: 1000, fields: 100, fieldSize: 1024 * 1024, parts: 1100 },
    throwFileSizeLimit: true,
  });
  app.useGlobalPipes(createValidationPipe());
  // CORS stays off (no Access-Control-* headers) unless origins are configured.
  if (config.corsOrigins.length) app.enableCors({ origin: config.corsOrigins, allowedHeaders: ['content-type', API_KEY_HEADER], exposedHeaders: ['x-request-id', 'retry-after'] });

  const document = SwaggerModule.createDocument(
    app as unknown as INestApplication,
    new DocumentBuilder()
      .setTitle('Lumen')
      .setDescription(
        'Inference platform: cascaded CT organ segmentation, deep-hashing image search, Hyper-SAGNN hyperedge prediction. ' +
          `Authenticate with the ${API_KEY_HEADER} header. Errors are application/problem+json (RFC 9457).`,
      )
      .setVersion('0.1.0')
      .addApiKey({ type: 'apiKey', in: 'header', name: API_KEY_HEADER }, 'api-key')
      .build(),
    { extraModels: [ProblemDto], operationIdFactory: (_controller, method) => method },
  );
  SwaggerModule.setup('docs', app as unknown as INestApplication, document, { jsonDocumentUrl: 'docs/openapi.json', yamlDocumentUrl: 'docs/openapi.yaml' });
}
