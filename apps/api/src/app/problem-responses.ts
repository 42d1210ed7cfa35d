import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';

/** One field at fault in a refused request. */
export class FieldErrorDto {
  @ApiPropertyOptional({ example: 'k', description: 'The field at fault (dotted path, with [i] for array entries); absent when the fault is the whole request' })
  field?: string;
  @ApiProperty({ example: 'k must not be greater than 100000' })
  message: string;
}

/**
 * The RFC 9457 body every error response carries (content type application/problem+json). Some
 * problems add members of their own (RFC 9457 extensions: `retryAfterSeconds`, `series`...).
 */
export class ProblemDto {
  @ApiProperty({ example: 'urn:lumen:problem:invalid-request' })
  type: string;
  @ApiProperty({ example: 'Bad Request' })
  title: string;
  @ApiProperty({ type: 'integer', example: 400 })
  status: number;
  @ApiProperty({ example: 'k must not be greater than 100000' })
  detail: string;
  @ApiPropertyOptional({ example: '/collections/7/search' })
  instance?: string;
  @ApiPropertyOptional({ example: 'req-1' })
  requestId?: string;
  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Every field at fault, for validation problems' })
  errors?: FieldErrorDto[];
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (problem+json lists each field at fault)',
  401: 'Missing or unknown X-API-Key',
  403: 'The key lacks the scope this route needs',
  404: 'Not found (or owned by another key)',
  409: 'Conflict with the current state',
  413: 'Upload larger than UPLOAD_MAX_BYTES or the route limit',
  415: 'Unsupported media type or file format',
  422: 'Well-formed but unusable input (named in detail)',
  429: 'Rate limited (see Retry-After)',
  503: 'Not ready: database or models unavailable',
};

/** Documents problem+json error responses for the given status codes. */
export function ApiProblemResponses(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } } }),
    ),
  );
}
