import { HttpException, HttpStatus } from '@nestjs/common';

/** RFC 9457 problem details, as every error response of Lumen is shaped. */
export type ProblemDetails = {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: { field?: string; message: string }[];
  [extension: string]: unknown;
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * An error that reaches the client as problem+json. `problem` is a short slug ("unsupported-image",
 * "volume-too-large") that becomes the `type` URN, so clients can branch on it.
 */
export class ProblemException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly problem: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail, status);
  }
}

export function problemType(slug: string): string {
  return `urn:lumen:problem:${slug}`;
}
