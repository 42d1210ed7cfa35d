import { HttpStatus, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ProblemException } from './problem.js';

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
    exceptionFactory: (errors) => {
      const list = flatten(errors);
      return new ProblemException(HttpStatus.BAD_REQUEST, 'invalid-request', list.map((e) => e.message).join('; '), { errors: list });
    },
  });
}
