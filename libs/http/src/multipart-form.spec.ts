import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsInt, IsObject, IsOptional, Min } from 'class-validator';
import { type CrossCheckedForm, FormFile, JsonFormField, readForm } from './multipart-form.js';
import type { ProblemException } from './problem.js';
import type { UploadedFile } from './uploads.js';
import type { FieldError } from './validation.js';

class PhotoFormDto implements CrossCheckedForm {
  @FormFile({ description: 'photos', maxCount: 3, required: true, missing: { problem: 'missing-image', detail: 'Send at least one photo' } })
  photos: UploadedFile[];

  @FormFile({ description: 'a mask' })
  mask?: UploadedFile;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  k?: number;

  @JsonFormField()
  @IsOptional()
  @IsObject()
  filter?: Record<string, unknown>;

  crossCheck(): FieldError[] {
    return this.mask && this.photos.length > 1 ? [{ field: 'mask', message: 'a mask goes with one photo' }] : [];
  }
}

const file = (field: string): UploadedFile => ({ field, clientName: `${field}.png`, mimetype: 'image/png', path: `/tmp/${field}`, size: 1, sha256: 'x' });

async function problem(files: UploadedFile[], fields: Record<string, string>) {
  const error = (await readForm(PhotoFormDto, { files, fields }).catch((e: unknown) => e)) as ProblemException;
  return { status: error.getStatus(), problem: error.problem, fields: (error.extensions.errors as FieldError[] | undefined)?.map((e) => e.field) };
}

describe('readForm: one validation of a multipart form', () => {
  it('gives the DTO with converted text fields, parsed JSON fields and the files', async () => {
    const form = await readForm(PhotoFormDto, { files: [file('photos'), file('mask')], fields: { k: '5', filter: '{"label":"cat"}' } });
    expect(form).toBeInstanceOf(PhotoFormDto);
    expect(form).toMatchObject({ k: 5, filter: { label: 'cat' }, photos: [{ field: 'photos' }], mask: { field: 'mask' } });
  });

  it.each([
    ['a missing required file, with its own problem', [], {}, 400, 'missing-image', ['photos']],
    ['too many files under one field', [file('photos'), file('mask'), file('mask')], {}, 400, 'invalid-request', ['mask']],
    ['a text field named like a file field', [file('photos')], { mask: 'x' }, 400, 'invalid-request', ['mask']],
    ['an unknown text field', [file('photos')], { colour: 'red' }, 400, 'invalid-request', ['colour']],
    ['a rule of the DTO', [file('photos')], { k: '0' }, 400, 'invalid-request', ['k']],
    ['a JSON field that is not JSON', [file('photos')], { filter: '{label' }, 400, 'invalid-request', ['filter']],
    ['JSON of the wrong kind', [file('photos')], { filter: '[1]' }, 400, 'invalid-request', ['filter']],
    ['a cross-field rule', [file('photos'), file('photos'), file('mask')], {}, 400, 'invalid-request', ['mask']],
  ])('refuses %s', async (_what, files, fields, status, type, at) => {
    expect(await problem(files as UploadedFile[], fields)).toEqual({ status, problem: type, fields: at });
  });

  it('takes a blank JSON field as not given', async () => {
    expect((await readForm(PhotoFormDto, { files: [file('photos')], fields: { filter: ' ' } })).filter).toBeUndefined();
  });
});
