import {
  type CallHandler,
  type ExecutionContext,
  HttpStatus,
  Inject,
  Injectable,
  type NestInterceptor,
  SetMetadata,
  type Type,
  UseInterceptors,
  applyDecorators,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBody, ApiConsumes, ApiProperty } from '@nestjs/swagger';
import { Allow } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { type Observable, defer, lastValueFrom } from 'rxjs';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { Storage } from '@lumen/storage';
import { ProblemException } from './problem.js';
import { type MultipartBody, receiveMultipart } from './uploads.js';
import { type FieldError, invalidField, invalidRequest, validateDto } from './validation.js';

const FILE_FIELDS = 'lumen:form-files';
const JSON_FIELDS = 'lumen:form-json-fields';
const FORM_SPEC = 'lumen:multipart-form';
const FORM = Symbol('lumen:form');

export type FormFileOptions = {
  description: string;
  /** Most files under this field (default 1). With 1 the property holds one file, else an array. */
  maxCount?: number;
  required?: boolean;
  /** The 400 answered when a required file is missing (default: invalid-request naming the field). */
  missing?: { problem: string; detail: string };
};

type FileFieldSpec = FormFileOptions & { field: string };

/** A file field of a multipart form DTO: documented as binary, filled with the streamed file(s). */
export function FormFile(options: FormFileOptions): PropertyDecorator {
  return (target, property) => {
    const field = String(property);
    const owner = target.constructor;
    Reflect.defineMetadata(FILE_FIELDS, [...formFileFields(owner), { ...options, field }], owner);
    const binary = { type: 'string', format: 'binary' } as const;
    const schema = (options.maxCount ?? 1) > 1 ? { type: 'array' as const, items: binary } : binary;
    ApiProperty({ ...schema, description: options.description, required: options.required ?? false })(target, property);
    // Whitelisted for validation: the interceptor puts the files on the object it validates.
    Allow()(target, property);
  };
}

/** A text field of a multipart form that carries JSON (parsed before the DTO's rules apply). */
export function JsonFormField(): PropertyDecorator {
  return (target, property) => {
    Reflect.defineMetadata(JSON_FIELDS, [...jsonFormFields(target.constructor), String(property)], target.constructor);
  };
}

function formFileFields(dto: object): FileFieldSpec[] {
  return (Reflect.getMetadata(FILE_FIELDS, dto) as FileFieldSpec[] | undefined) ?? [];
}

function jsonFormFields(dto: object): string[] {
  return (Reflect.getMetadata(JSON_FIELDS, dto) as string[] | undefined) ?? [];
}

/** Rules of a form that span several fields and files, with index-precise field names. */
export interface CrossCheckedForm {
  crossCheck(): FieldError[];
}

function isCrossChecked(form: object): form is CrossCheckedForm {
  return typeof (form as Partial<CrossCheckedForm>).crossCheck === 'function';
}

/**
 * The form DTO of received multipart parts: required and per-field file counts first, then the
 * text fields (JSON ones parsed) and files validated together by the DTO's class-validator rules,
 * then the DTO's cross-field checks. Any fault is the same 4xx problem+json a JSON body gets.
 */
export async function readForm<T extends object>(dto: Type<T>, upload: Pick<MultipartBody, 'files' | 'fields'>): Promise<T> {
  const plain: Record<string, unknown> = {};
  for (const spec of formFileFields(dto)) {
    const files = upload.files.filter((f) => f.field === spec.field);
    const maxCount = spec.maxCount ?? 1;
    if (spec.required && !files.length) {
      if (spec.missing) throw new ProblemException(HttpStatus.BAD_REQUEST, spec.missing.problem, spec.missing.detail, { errors: [{ field: spec.field, message: spec.missing.detail }] });
      throw invalidField(spec.field, `the "${spec.field}" file is required`);
    }
    if (files.length > maxCount) throw invalidField(spec.field, `send at most ${maxCount} "${spec.field}" file${maxCount > 1 ? 's' : ''}; got ${files.length}`);
    if (upload.fields[spec.field] !== undefined) throw invalidField(spec.field, `${spec.field} must be a file, not a text field`);
    if (files.length) plain[spec.field] = maxCount > 1 ? files : files[0];
  }
  const jsonFields = new Set(jsonFormFields(dto));
  for (const [name, text] of Object.entries(upload.fields)) {
    if (!jsonFields.has(name)) {
      plain[name] = text;
      continue;
    }
    if (text.trim() === '') continue; // a blank form input: not given
    try {
      plain[name] = JSON.parse(text);
    } catch (error) {
      throw invalidRequest([{ field: name, message: `${name} must be JSON` }], { detail: `${name} must be JSON: ${(error as Error).message}` });
    }
  }
  const form = await validateDto(dto, plain);
  const errors = isCrossChecked(form) ? form.crossCheck() : [];
  if (errors.length) throw invalidRequest(errors);
  return form;
}

export type MultipartFormOptions = {
  /** Largest file of this form; UPLOAD_MAX_BYTES caps it (default: UPLOAD_MAX_BYTES). */
  maxFileBytes?: number;
  /** The route also takes a JSON body: then the form is undefined and @Body() applies. */
  orJson?: boolean;
};

type FormSpec = MultipartFormOptions & { dto: Type<object> };

/** Room for multipart boundaries, part headers and text fields on top of UPLOAD_MAX_BYTES of files. */
export const MULTIPART_OVERHEAD_BYTES = 1024 * 1024;

/** The largest multipart body, declared (refused before it is read) or counted while it streams. */
export function maxMultipartBodyBytes(uploadMaxBytes: number): number {
  return uploadMaxBytes + MULTIPART_OVERHEAD_BYTES;
}

/**
 * Streams the multipart body to disk (per-file limit, 413 while the client is still sending),
 * reads it into the route's form DTO (readForm) before the handler runs, and deletes every
 * uploaded file once the handler has finished, whatever happened.
 */
@Injectable()
export class MultipartFormInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG) private readonly config: LumenConfig,
    private readonly storage: Storage,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const spec = this.reflector.get<FormSpec>(FORM_SPEC, context.getHandler());
    const request = context.switchToHttp().getRequest<FastifyRequest & { [FORM]?: object }>();
    if (spec.orJson && !request.isMultipart()) return next.handle();
    const fileFields = formFileFields(spec.dto);
    const upload = await receiveMultipart(request, {
      // Uploads wait in the storage's upload folder until the request ends (deleted then, unless the service took them over).
      directory: this.storage.uploadDirectory(),
      maxFileBytes: Math.min(spec.maxFileBytes ?? Infinity, this.config.uploadMaxBytes),
      maxTotalBytes: this.config.uploadMaxBytes,
      maxBodyBytes: maxMultipartBodyBytes(this.config.uploadMaxBytes),
      maxFiles: fileFields.reduce((sum, f) => sum + (f.maxCount ?? 1), 0),
      fileFields: fileFields.map((f) => f.field),
    });
    try {
      request[FORM] = await readForm(spec.dto, upload);
    } catch (error) {
      await upload.cleanup();
      throw error;
    }
    return defer(async () => {
      try {
        return await lastValueFrom(next.handle());
      } finally {
        await upload.cleanup();
      }
    });
  }
}

/**
 * The route takes a multipart form described and validated by `dto` (files marked @FormFile);
 * read it with @UploadedForm(). Documents the form unless the route also takes JSON.
 */
export function MultipartForm(dto: Type<object>, options: MultipartFormOptions = {}) {
  const docs = options.orJson ? [] : [ApiConsumes('multipart/form-data'), ApiBody({ type: dto })];
  return applyDecorators(SetMetadata(FORM_SPEC, { ...options, dto } satisfies FormSpec), UseInterceptors(MultipartFormInterceptor), ...docs);
}

/** The validated form DTO of a @MultipartForm route (undefined for a JSON request to an orJson route). */
export const UploadedForm = createParamDecorator((_: unknown, context: ExecutionContext): object | undefined => {
  return context.switchToHttp().getRequest<{ [FORM]?: object }>()[FORM];
});
