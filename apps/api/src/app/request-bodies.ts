import { type Type, applyDecorators } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExtension, ApiExtraModels, getSchemaPath } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';

/** Extension carrying a route's schema per media type until `applyRequestBodies` moves it into place. */
const EXTENSION = 'x-lumen-request-bodies';

type SchemaObject = Record<string, unknown>;

/**
 * One request-body schema per media type (JSON search by code vs multipart search by image;
 * JSON tensors vs binary tensors). @nestjs/swagger gives every media type of a route the same
 * schema, which forces a `oneOf` of shapes that overlap; the document is fixed up afterwards by
 * applyRequestBodies (called by createOpenApiDocument).
 */
export function ApiRequestBodies(bodies: Record<string, Type<unknown> | SchemaObject>, description?: string) {
  const schemas = Object.fromEntries(Object.entries(bodies).map(([type, body]) => [type, typeof body === 'function' ? { $ref: getSchemaPath(body) } : body]));
  const models = Object.values(bodies).filter((body): body is Type<unknown> => typeof body === 'function');
  return applyDecorators(
    ApiExtraModels(...models),
    ApiConsumes(...Object.keys(bodies)),
    ApiBody({ schema: Object.values(schemas)[0], description, required: true }),
    ApiExtension(EXTENSION, schemas),
  );
}

/** Replaces each marked operation's request-body schemas with its per-media-type ones. */
export function applyRequestBodies(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as Record<string, unknown>[]) {
      const schemas = operation?.[EXTENSION] as Record<string, SchemaObject> | undefined;
      if (!schemas) continue;
      const body = operation.requestBody as { content: Record<string, { schema?: unknown }> };
      body.content = Object.fromEntries(Object.entries(schemas).map(([type, schema]) => [type, { schema }]));
      delete operation[EXTENSION];
    }
  }
}
