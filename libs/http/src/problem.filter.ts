import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CollectionErrorCode } from '@lumen/collections';
import { DomainError } from '@lumen/errors';
import type { HashingErrorCode, ImageErrorCode } from '@lumen/hashing';
import type { HypergraphErrorCode } from '@lumen/hypergraph';
import type { ModelErrorCode } from '@lumen/inference';
import type { JobErrorCode } from '@lumen/jobs';
import type { SegmentationErrorCode } from '@lumen/segmentation';
import type { VolumeErrorCode } from '@lumen/volumes';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails, ProblemException, problemType } from './problem.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 409: 'Conflict', 413: 'Content Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Content', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

const SLUGS: Record<number, string> = {
  400: 'bad-request', 401: 'unauthorized', 403: 'forbidden', 404: 'not-found', 405: 'method-not-allowed', 409: 'conflict',
  413: 'payload-too-large', 415: 'unsupported-media-type', 422: 'unprocessable', 429: 'rate-limited', 503: 'unavailable',
};

/** Every code a domain library throws (DomainError), across the domains the API serves. */
export type DomainErrorCode =
  | VolumeErrorCode
  | ImageErrorCode
  | HashingErrorCode
  | CollectionErrorCode
  | ModelErrorCode
  | HypergraphErrorCode
  | SegmentationErrorCode
  | JobErrorCode;

/** The HTTP answer to a domain error: its status and the problem `type` slug clients branch on. */
export type DomainProblem = { status: HttpStatus; type: string };

const { BAD_REQUEST, NOT_FOUND, CONFLICT, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, UNPROCESSABLE_ENTITY, SERVICE_UNAVAILABLE } = HttpStatus;

/**
 * The one place domain codes become HTTP: status and problem type of each code (the title
 * follows from the status). Typed over every domain's code union, so a new code does not
 * compile until it is mapped here.
 */
export const DOMAIN_PROBLEMS: Readonly<Record<DomainErrorCode, DomainProblem>> = {
  'volume.unsupported-format': { status: UNSUPPORTED_MEDIA_TYPE, type: 'unsupported-volume-format' },
  'volume.unsupported-reference-format': { status: UNSUPPORTED_MEDIA_TYPE, type: 'unsupported-reference-format' },
  'volume.empty-file': { status: UNPROCESSABLE_ENTITY, type: 'empty-file' },
  'volume.too-large': { status: PAYLOAD_TOO_LARGE, type: 'volume-too-large' },
  'volume.not-nifti': { status: UNPROCESSABLE_ENTITY, type: 'not-nifti' },
  'volume.gzip-bomb': { status: PAYLOAD_TOO_LARGE, type: 'gzip-bomb' },
  'volume.corrupt-gzip': { status: UNPROCESSABLE_ENTITY, type: 'corrupt-gzip' },
  'volume.not-3d': { status: UNPROCESSABLE_ENTITY, type: 'not-a-3d-volume' },
  'volume.unsupported-pixel-type': { status: UNPROCESSABLE_ENTITY, type: 'unsupported-pixel-type' },
  'volume.empty': { status: UNPROCESSABLE_ENTITY, type: 'empty-volume' },
  'volume.invalid-spacing': { status: UNPROCESSABLE_ENTITY, type: 'invalid-spacing' },
  'volume.unreadable': { status: UNPROCESSABLE_ENTITY, type: 'unreadable-volume' },
  'volume.data-size-mismatch': { status: UNPROCESSABLE_ENTITY, type: 'data-size-mismatch' },
  'volume.reference-grid-mismatch': { status: UNPROCESSABLE_ENTITY, type: 'reference-grid-mismatch' },
  'volume.unsafe-zip-entry': { status: UNPROCESSABLE_ENTITY, type: 'unsafe-zip-entry' },
  'volume.nested-archive': { status: UNPROCESSABLE_ENTITY, type: 'nested-archive' },
  'volume.zip-too-large': { status: PAYLOAD_TOO_LARGE, type: 'zip-too-large' },
  'volume.invalid-zip': { status: UNPROCESSABLE_ENTITY, type: 'invalid-zip' },
  'volume.empty-zip': { status: UNPROCESSABLE_ENTITY, type: 'empty-zip' },
  'volume.too-many-zip-entries': { status: PAYLOAD_TOO_LARGE, type: 'too-many-zip-entries' },
  'volume.no-dicom-files': { status: UNPROCESSABLE_ENTITY, type: 'no-dicom-files' },
  'volume.unknown-series': { status: UNPROCESSABLE_ENTITY, type: 'unknown-series' },
  'volume.multiple-series': { status: UNPROCESSABLE_ENTITY, type: 'multiple-series' },
  'volume.single-slice': { status: UNPROCESSABLE_ENTITY, type: 'single-slice' },
  'volume.duplicate-slices': { status: UNPROCESSABLE_ENTITY, type: 'duplicate-slices' },
  'volume.uneven-slice-spacing': { status: UNPROCESSABLE_ENTITY, type: 'uneven-slice-spacing' },
  'volume.unreadable-dicom': { status: UNPROCESSABLE_ENTITY, type: 'unreadable-dicom' },
  'volume.mixed-multiframe': { status: UNPROCESSABLE_ENTITY, type: 'mixed-multiframe' },
  'volume.missing-slice-position': { status: UNPROCESSABLE_ENTITY, type: 'missing-slice-position' },
  'volume.gantry-tilt': { status: UNPROCESSABLE_ENTITY, type: 'gantry-tilt' },
  'volume.unreadable-dicom-file': { status: UNPROCESSABLE_ENTITY, type: 'unreadable-dicom-file' },
  'volume.truncated-dicom-file': { status: UNPROCESSABLE_ENTITY, type: 'truncated-dicom-file' },
  'volume.missing-pixel-spacing': { status: UNPROCESSABLE_ENTITY, type: 'missing-pixel-spacing' },
  'volume.unsupported-transfer-syntax': { status: UNSUPPORTED_MEDIA_TYPE, type: 'unsupported-transfer-syntax' },
  'image.unsupported-format': { status: UNSUPPORTED_MEDIA_TYPE, type: 'unsupported-image-format' },
  'image.undecodable': { status: UNPROCESSABLE_ENTITY, type: 'undecodable-image' },
  'image.empty': { status: UNPROCESSABLE_ENTITY, type: 'empty-image' },
  'image.too-large': { status: PAYLOAD_TOO_LARGE, type: 'image-too-large' },
  'image.too-small': { status: UNPROCESSABLE_ENTITY, type: 'image-too-small' },
  'hashing.unsupported-bits': { status: BAD_REQUEST, type: 'unsupported-bits' },
  'collection.not-found': { status: NOT_FOUND, type: 'collection-not-found' },
  'collection.image-not-found': { status: NOT_FOUND, type: 'image-not-found' },
  'collection.invalid-search': { status: BAD_REQUEST, type: 'invalid-request' },
  'collection.model-version-changed': { status: CONFLICT, type: 'model-version-changed' },
  'collection.concurrent-delete': { status: CONFLICT, type: 'concurrent-delete' },
  'model.not-found': { status: NOT_FOUND, type: 'model-not-found' },
  'model.version-not-found': { status: NOT_FOUND, type: 'model-version-not-found' },
  'model.unavailable': { status: SERVICE_UNAVAILABLE, type: 'model-unavailable' },
  'model.inference-failed': { status: UNPROCESSABLE_ENTITY, type: 'inference-failed' },
  'hypergraph.not-found': { status: NOT_FOUND, type: 'hypergraph-not-found' },
  'hypergraph.unknown-node-type': { status: BAD_REQUEST, type: 'unknown-node-type' },
  'hypergraph.outsiders-unsupported': { status: UNPROCESSABLE_ENTITY, type: 'outsiders-unsupported' },
  'hypergraph.malformed-candidates': { status: BAD_REQUEST, type: 'invalid-request' },
  'hypergraph.invalid-hyperedge': { status: UNPROCESSABLE_ENTITY, type: 'invalid-hyperedge' },
  'segmentation.models-unavailable': { status: SERVICE_UNAVAILABLE, type: 'models-unavailable' },
  'segmentation.not-found': { status: NOT_FOUND, type: 'segmentation-not-found' },
  'segmentation.not-finished': { status: CONFLICT, type: 'segmentation-not-finished' },
  'segmentation.output-missing': { status: NOT_FOUND, type: 'output-missing' },
  'segmentation.dicom-seg-needs-dicom-input': { status: CONFLICT, type: 'dicom-seg-needs-dicom-input' },
  'segmentation.dicom-seg-unavailable': { status: CONFLICT, type: 'dicom-seg-unavailable' },
  'job.not-found': { status: NOT_FOUND, type: 'job-not-found' },
};

/** Status and problem type URN of a domain code. */
export function domainProblemOf(code: DomainErrorCode): { status: number; type: string } {
  const { status, type } = DOMAIN_PROBLEMS[code];
  return { status, type: problemType(type) };
}

/** A domain error as problem+json, or null when its code is not mapped (then it is a 500). */
function domainErrorProblem(error: DomainError, request: { url: string; id: string }): ProblemDetails | null {
  if (!Object.hasOwn(DOMAIN_PROBLEMS, error.code)) return null;
  const problem = domainProblemOf(error.code as DomainErrorCode);
  // A refused upload is named in the detail (`image "cat.png": ...`) and by its form field.
  const detail = error.file ? `${error.file.field}${error.file.name ? ` "${error.file.name}"` : ''}: ${error.detail}` : error.detail;
  const errors = error.errors ?? (error.field ? [{ field: error.field, message: error.detail }] : undefined);
  return {
    type: problem.type,
    title: TITLES[problem.status] ?? 'Error',
    status: problem.status,
    detail,
    instance: request.url,
    requestId: request.id,
    ...error.details,
    ...(errors ? { errors } : {}),
    ...(error.file ? { field: error.file.field } : {}),
  };
}

// Signs that PostgreSQL cannot be reached, as node-postgres, Prisma and its pg adapter report
// them: socket errors, server shutdown / not-yet-accepting SQLSTATEs (57P01-57P03, class 08),
// Prisma's P1001/P1017, and the adapter's error kinds. A restart of the database is an outage to
// retry, not a bug: clients get 503 + Retry-After instead of an opaque 500.
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'P1001', 'P1002', 'P1017', '57P01', '57P02', '57P03']);
const UNREACHABLE_KINDS = new Set(['DatabaseNotReachable', 'DatabaseDoesNotExist', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const UNREACHABLE_MESSAGES = [/Connection terminated/i, /Can't reach database server/i, /timeout exceeded when trying to connect/i, /terminating connection due to administrator command/i, /the database system is (starting up|shutting down)/i, /Client has encountered a connection error/i, /ECONNREFUSED/];

/** True when `error` (or any error in its `cause` chain) says the database cannot be reached. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let current = error; current && typeof current === 'object' && !seen.has(current); ) {
    seen.add(current);
    const { code, kind, originalCode, message, cause, errors } = current as { code?: unknown; kind?: unknown; originalCode?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08'))) return true;
    if (typeof originalCode === 'string' && (UNREACHABLE_CODES.has(originalCode) || originalCode.startsWith('08'))) return true;
    if (typeof kind === 'string' && UNREACHABLE_KINDS.has(kind)) return true;
    if (typeof message === 'string' && UNREACHABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
    // AggregateError (e.g. ECONNREFUSED on both ::1 and 127.0.0.1)
    if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    current = cause;
  }
  return false;
}

/** Paths of the Open Inference Protocol (KServe v2), whose clients read an error's message from `error`. */
const OPEN_INFERENCE_PATH = /^\/v2(?:[/?]|$)/;

/**
 * Turns any error into problem+json; unexpected ones become a 500 that reveals nothing internal.
 * Under /v2 the problem also carries the protocol's own error member, `error` (the detail), so
 * KServe and Triton clients show the reason: an RFC 9457 extension member, ignored by others.
 */
export function toProblem(error: unknown, request: { url: string; id: string }): ProblemDetails {
  const problem = describeError(error, request);
  return OPEN_INFERENCE_PATH.test(request.url) ? { ...problem, error: problem.detail } : problem;
}

function describeError(error: unknown, request: { url: string; id: string }): ProblemDetails {
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    let detail = error.message;
    let errors: ProblemDetails['errors'];
    if (typeof body === 'object' && body !== null) {
      const message = (body as { message?: unknown }).message;
      if (Array.isArray(message)) {
        errors = message.map((m) => ({ message: String(m) }));
        detail = errors.map((e) => e.message).join('; ');
      } else if (typeof message === 'string') detail = message;
    }
    const slug = error instanceof ProblemException ? error.problem : (SLUGS[status] ?? 'error');
    return {
      type: problemType(slug),
      title: TITLES[status] ?? 'Error',
      status,
      detail,
      instance: request.url,
      requestId: request.id,
      ...(errors ? { errors } : {}),
      ...(error instanceof ProblemException ? error.extensions : {}),
    };
  }
  // A domain code the table does not map is a bug, answered like any unexpected error.
  if (error instanceof DomainError) return domainErrorProblem(error, request) ?? internalProblem(request);
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    const status = fastifyError.statusCode;
    return {
      type: problemType(SLUGS[status] ?? 'bad-request'),
      title: TITLES[status] ?? 'Bad Request',
      status,
      detail: describeFastifyError(fastifyError),
      instance: request.url,
      requestId: request.id,
    };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      type: problemType('database-unavailable'),
      title: TITLES[503],
      status: HttpStatus.SERVICE_UNAVAILABLE,
      detail: 'The database is unavailable; retry after a few seconds.',
      instance: request.url,
      requestId: request.id,
    };
  }
  return internalProblem(request);
}

/** The 500 of an unexpected error: nothing of the error itself reaches the client. */
function internalProblem(request: { url: string; id: string }): ProblemDetails {
  return {
    type: problemType('internal'),
    title: TITLES[500],
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    detail: 'An unexpected error occurred; it has been logged with this request id.',
    instance: request.url,
    requestId: request.id,
  };
}

function describeFastifyError(error: { code?: string; message?: string }): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'Request body is larger than this endpoint accepts';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `Unsupported Content-Type: ${error.message?.replace(/^Unsupported Media Type: ?/, '') ?? ''}`.trim();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'Body is empty but Content-Type is application/json';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case undefined:
      return error.message?.startsWith('Unexpected') || error.message?.includes('JSON') ? `Body is not valid JSON: ${error.message}` : (error.message ?? 'Bad request');
    default:
      return error.message ?? 'Bad request';
  }
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const request = context.getRequest<FastifyRequest>();
    const reply = context.getResponse<FastifyReply>();
    const problem = toProblem(error, { url: request.url, id: String(request.id) });
    if (problem.status === 503 && problem.type === problemType('database-unavailable')) this.logger.warn(`${request.method} ${request.url} [${request.id}]: database unavailable: ${(error as Error)?.message ?? String(error)}`);
    else if (problem.status >= 500) this.logger.error(`${request.method} ${request.url} [${request.id}]: ${(error as Error)?.stack ?? String(error)}`);
    if (problem.status === 429 && typeof problem.retryAfterSeconds === 'number') reply.header('retry-after', String(problem.retryAfterSeconds));
    if (problem.status === 503) reply.header('retry-after', '5');
    // The rest of an over-size body is not wanted: closing the connection stops the client sending it.
    if (problem.status === 413) reply.header('connection', 'close');
    reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
  }
}
