// Fuzzing multipart field parsing: the API's @MultipartForm DTOs read through readForm (text
// fields converted, JSON fields parsed, class-validator rules, cross-field checks) with any field
// names and values a client could send. See test/support/fuzz.ts for the long run.
import 'reflect-metadata';
import fc from 'fast-check';
import { type UploadedFile, ProblemException, readForm } from '@lumen/http';
import { fuzz } from '../../../../test/support/fuzz.js';
import { AddImagesFormDto, SearchFormDto } from './collections/collections.dto.js';
import { HashFormDto } from './hash/hash.dto.js';
import { SegmentationUploadDto } from './segmentations/segmentations.dto.js';

const FORMS = { SegmentationUploadDto, HashFormDto, AddImagesFormDto, SearchFormDto } as const;
const FIELD_NAMES = ['organs', 'fast', 'referenceLabels', 'seriesUid', 'bits', 'k', 'maxDistance', 'filter', 'metadata', 'code', 'imageId', 'image', 'images', 'reference', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

const fieldValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.constantFrom('', ' ', 'true', 'false', '1', '0', 'NaN', '-1', '1e309', '[', '{', '{"__proto__":{"admin":true}}', '["liver","liver"]', 'liver,,spleen', '0'.repeat(400)),
);

const upload = fc.record({
  fields: fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 12 })), fieldValue, { maxKeys: 8 }),
  files: fc.array(
    fc.record({ field: fc.constantFrom('image', 'images', 'reference', 'photo', ''), clientName: fc.string({ maxLength: 20 }) }).map(
      ({ field, clientName }): UploadedFile => ({ field, clientName, mimetype: 'application/octet-stream', path: '/nonexistent', size: 1, sha256: '0'.repeat(64) }),
    ),
    { maxLength: 4 },
  ),
});

describe('multipart form parsing (fuzzed)', () => {
  it.each(Object.entries(FORMS))('%s: any fields and files give the form or a 4xx naming fields, never another error', async (_name, dto) => {
    await fc.assert(
      fc.asyncProperty(upload, async ({ fields, files }) => {
        try {
          const form = await readForm(dto as never, { fields, files });
          // Nothing but the DTO's own properties leaks through (no prototype pollution).
          return form instanceof dto && ({} as Record<string, unknown>).admin === undefined;
        } catch (error) {
          if (!(error instanceof ProblemException)) throw error;
          const status = error.getStatus();
          const errors = (error.extensions.errors as { field?: string; message: string }[] | undefined) ?? [];
          return status >= 400 && status < 500 && errors.length > 0 && errors.every((e) => typeof e.message === 'string' && e.message.length > 0);
        }
      }),
      fuzz(300),
    );
  });
});
