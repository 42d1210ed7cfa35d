import { HttpStatus, type Type, ValidationPipe, type ValidationError } from '@nestjs/common';
import type { FieldError } from '@lumen/errors';
import { ProblemException } from './problem.js';

/** One field at fault, as problem+json lists it in `errors[]`. */
export type { FieldError };

/**
 * The 400 `invalid-request` problem: every validation failure of the API is built here, so the
 * body is the same whether a DTO, a multipart form or a service found the fault.
 */
export function invalidRequest(errors: FieldError[], options: { detail?: string; extensions?: Record<string, unknown> } = {}): ProblemException {
  return new ProblemException(HttpStatus.BAD_REQUEST, 'invalid-request', options.detail ?? errors.map((e) => e.message).join('; '), { errors, ...options.extensions });
}

/** A 400 `invalid-request` naming one field. */
export function invalidField(field: string, message: string): ProblemException {
  return invalidRequest([{ field, message }]);
}

function flatten(errors: ValidationError[], parent = ''): { field: string; message: string }[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Validates DTOs; unknown fields are rejected; failures list every field at fault. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => invalidRequest(flatten(errors)),
  });
}

/**
 * Validates a plain object with a DTO's rules and the same 400 answer as a JSON body: unknown
 * fields are refused, values are converted by the DTO's class-transformer decorators.
 */
export async function validateDto<T extends object>(dto: Type<T>, plain: Record<string, unknown>): Promise<T> {
  return (await createValidationPipe().transform(plain, { type: 'body', metatype: dto, data: undefined })) as T;
}
