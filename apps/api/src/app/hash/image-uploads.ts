import fs from 'node:fs/promises';
import path from 'node:path';
import { HttpStatus, type Type } from '@nestjs/common';
import type { LumenConfig } from '@lumen/config';
import { type HashingModel, type ImageHasher, type ImageRejectedError } from '@lumen/hashing';
import { ProblemException, type UploadedFile, createValidationPipe } from '@lumen/http';

/** Largest single image accepted (a 40 MP JPEG is far smaller); UPLOAD_MAX_BYTES can lower it. */
export const IMAGE_MAX_BYTES = 64 * 1024 * 1024;

/** Most files per ingestion request. */
export const IMAGES_PER_REQUEST_MAX = 1000;

/** Where uploads wait while they are hashed (deleted when the request ends, whatever happens). */
export function uploadDirectory(config: LumenConfig): string {
  return path.join(config.dataDir, 'tmp');
}

export function imageBytesLimit(config: LumenConfig): number {
  return Math.min(IMAGE_MAX_BYTES, config.uploadMaxBytes);
}

/** An image that cannot be hashed, as the problem+json answer of a single-image request. */
export function imageProblem(error: ImageRejectedError, file: UploadedFile): ProblemException {
  const name = file.clientName ? ` "${file.clientName}"` : '';
  return new ProblemException(error.status, error.problem, `${file.field}${name}: ${error.message}`, { field: file.field });
}

export async function readUpload(file: UploadedFile): Promise<Uint8Array> {
  return new Uint8Array(await fs.readFile(file.path));
}

/** Parses a multipart text field holding JSON; 400 naming the field when it is not JSON. */
export function parseJsonField(fields: Record<string, string>, name: string): unknown {
  const text = fields[name];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProblemException(HttpStatus.BAD_REQUEST, 'invalid-request', `${name} must be JSON: ${(error as Error).message}`, {
      errors: [{ field: name, message: `${name} must be JSON` }],
    });
  }
}

/**
 * Validates multipart text fields with the same DTO rules (and the same 400 answer) as a JSON
 * body: unknown fields are refused, numbers are converted by the DTO's @Type decorators.
 */
export async function validateFields<T extends object>(dto: Type<T>, fields: Record<string, unknown>): Promise<T> {
  return (await createValidationPipe().transform(fields, { type: 'body', metatype: dto, data: undefined })) as T;
}

/** The served model for `bits` (the default model when undefined), else 400/503 naming what is served. */
export function servedModel(hasher: ImageHasher, bits: number | undefined): HashingModel {
  const model = hasher.modelFor(bits);
  if (model) return model;
  const served = hasher.models().map((m) => m.bits);
  if (!served.length) throw new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, 'model-unavailable', 'No image-hashing model is loaded');
  throw new ProblemException(HttpStatus.BAD_REQUEST, 'unsupported-bits', `No model for ${bits} bits; served: ${served.join(', ')}`, {
    errors: [{ field: 'bits', message: `bits must be one of ${served.join(', ')}` }],
  });
}
