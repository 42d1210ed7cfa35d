import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { LumenConfig } from '@lumen/config';
import { API_KEY_HEADER } from '@lumen/http';
import { ProblemDto } from './app/problem-responses.js';
import { applyRequestBodies } from './app/request-bodies.js';

/** The security scheme every operation needs unless its controller is @Public(). */
export const API_KEY_SCHEME = 'api-key';

/**
 * The OpenAPI document of the API, built from the controllers' decorators. The same function
 * serves /docs/openapi.json and writes the committed apps/api/openapi.json (openapi-cli.ts), so
 * the two can only differ when the code changed and the file was not regenerated.
 */
export function createOpenApiDocument(app: INestApplication, config: LumenConfig): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Lumen')
    .setDescription(
      'Inference platform: cascaded CT organ segmentation, deep-hashing image search, Hyper-SAGNN hyperedge prediction, and the ' +
        'Open Inference Protocol (KServe v2) for every served model. ' +
        `Authenticate with the ${API_KEY_HEADER} header. Errors are application/problem+json (RFC 9457).`,
    )
    .setVersion('0.1.0')
    .addApiKey({ type: 'apiKey', in: 'header', name: API_KEY_HEADER }, API_KEY_SCHEME)
    .addSecurityRequirements(API_KEY_SCHEME)
    .addServer(config.publicUrl ?? '/', config.publicUrl ? 'PUBLIC_URL' : 'This server (relative to where this document is served)');
  const document = SwaggerModule.createDocument(app, builder.build(), { extraModels: [ProblemDto], operationIdFactory: (_controller, method) => method });
  applyRequestBodies(document);
  // Problem types may add members of their own (RFC 9457 section 3.2: retryAfterSeconds, series...).
  Object.assign(document.components!.schemas!.ProblemDto, { additionalProperties: true });
  return document;
}
