import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsHexadecimal, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { type Collection, IMAGES_PER_REQUEST_MAX, type ImageUploadResult, ImageUploadOutcome, type SearchResult } from '@lumen/collections';
import { type CrossCheckedForm, type FieldError, FormFile, JsonFormField, type UploadedFile, domainProblemOf } from '@lumen/http';
import { ModelRefDto } from '../model-ref.dto.js';

export const SEARCH_K_MAX = 100_000;

export class CreateCollectionDto {
  @ApiProperty({ example: 'holiday photos', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional({ description: 'Bit length, which picks the model (fixed for the collection); default 64', example: 64, minimum: 1, maximum: 4096 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(4096)
  bits?: number;
}

export class CollectionDto {
  @ApiProperty({ format: 'uuid', example: '5d0c6a1e-8a51-4c1e-b0a4-2f6f1f0a7b3c' })
  id: string;
  @ApiProperty({ example: 'holiday photos' })
  name: string;
  @ApiProperty({ example: 64 })
  bits: number;
  @ApiProperty({ type: ModelRefDto })
  model: ModelRefDto;
  @ApiProperty({ example: 1250, description: 'Images in the collection' })
  count: number;
  @ApiProperty({ example: 'app', description: 'Name of the API key that owns it' })
  owner: string;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { self: '/collections/5d0c6a1e-8a51-4c1e-b0a4-2f6f1f0a7b3c', images: '/collections/5d0c6a1e-8a51-4c1e-b0a4-2f6f1f0a7b3c/images', search: '/collections/5d0c6a1e-8a51-4c1e-b0a4-2f6f1f0a7b3c/search' } })
  links: Record<string, string>;

  static from(collection: Collection, count: number): CollectionDto {
    const self = `/collections/${collection.id}`;
    return {
      id: collection.id,
      name: collection.name,
      bits: collection.bits,
      model: ModelRefDto.from({ name: collection.modelName, version: collection.modelVersion }),
      count,
      owner: collection.owner,
      createdAt: collection.createdAt.toISOString(),
      links: { self, images: `${self}/images`, search: `${self}/search` },
    };
  }
}

export class CollectionListDto {
  @ApiProperty({ type: [CollectionDto] })
  items: CollectionDto[];
}

const EXTERNAL_ID_MAX = 256;
const METADATA_MAX_BYTES = 16 * 1024;

/** The multipart form of POST /collections/{id}/images. */
export class AddImagesFormDto implements CrossCheckedForm {
  @FormFile({
    description: `One or more image files (at most ${IMAGES_PER_REQUEST_MAX}): JPEG, PNG, WebP, GIF, AVIF or TIFF`,
    maxCount: IMAGES_PER_REQUEST_MAX,
    required: true,
    missing: { problem: 'missing-image', detail: 'Send at least one image as the multipart file field "images"' },
  })
  images: UploadedFile[];

  @ApiPropertyOptional({ type: 'string', description: 'JSON array, one string or null per file, in file order', example: '["cat-001", null]' })
  @JsonFormField()
  @IsOptional()
  @IsArray({ message: 'externalIds must be a JSON array with one entry per file' })
  externalIds?: unknown[];

  @ApiPropertyOptional({ type: 'string', description: 'JSON array, one object or null per file, in file order', example: '[{"label": "cat"}, {"label": "dog"}]' })
  @JsonFormField()
  @IsOptional()
  @IsArray({ message: 'metadata must be a JSON array with one entry per file' })
  metadata?: unknown[];

  /** One entry per file, each the right kind, named by position. */
  crossCheck(): FieldError[] {
    const errors: FieldError[] = [];
    for (const [field, values] of [['externalIds', this.externalIds], ['metadata', this.metadata]] as const) {
      if (values && values.length !== this.images.length) errors.push({ field, message: `${field} has ${values.length} entries for ${this.images.length} file(s)` });
    }
    if (errors.length) return errors;
    this.externalIds?.forEach((value, i) => {
      if (value !== null && (typeof value !== 'string' || value.length === 0 || value.length > EXTERNAL_ID_MAX)) {
        errors.push({ field: `externalIds[${i}]`, message: `externalIds[${i}] must be null or a string of 1..${EXTERNAL_ID_MAX} characters` });
      }
    });
    this.metadata?.forEach((value, i) => {
      if (value === null) return;
      if (typeof value !== 'object' || Array.isArray(value)) errors.push({ field: `metadata[${i}]`, message: `metadata[${i}] must be null or a JSON object` });
      else if (JSON.stringify(value).length > METADATA_MAX_BYTES) errors.push({ field: `metadata[${i}]`, message: `metadata[${i}] is larger than ${METADATA_MAX_BYTES} bytes of JSON` });
    });
    return errors;
  }

  /** The externalIds of the files in file order (null where not given). */
  fileExternalIds(): (string | null)[] {
    return (this.externalIds as (string | null)[] | undefined) ?? this.images.map(() => null);
  }

  /** The metadata objects of the files in file order (empty where not given). */
  fileMetadata(): Record<string, unknown>[] {
    return this.images.map((_, i) => (this.metadata?.[i] as Record<string, unknown> | null | undefined) ?? {});
  }
}

export class ImageUploadErrorDto {
  @ApiProperty({ example: 422, description: 'The status this file alone would have got' })
  status: number;
  @ApiProperty({ example: 'urn:lumen:problem:undecodable-image' })
  type: string;
  @ApiProperty({ example: 'the JPEG data does not decode: VipsJpeg: premature end of JPEG image' })
  detail: string;
}

export class ImageUploadResultDto {
  @ApiProperty({ example: 0, description: 'Position of the file in the request' })
  index: number;
  @ApiProperty({ example: 'cat-001.jpg', description: 'File name the client sent' })
  fileName: string;
  @ApiProperty({ enum: ImageUploadOutcome, enumName: 'ImageUploadOutcome', example: ImageUploadOutcome.added })
  outcome: ImageUploadOutcome;
  @ApiPropertyOptional({ format: 'uuid', description: 'Image id (the existing one for a duplicate)' })
  id?: string;
  @ApiPropertyOptional({ type: 'string', nullable: true, example: 'cat-001' })
  externalId?: string | null;
  @ApiPropertyOptional({ example: '9f3a0c71e2b45d08', description: 'Packed code in hex (MSB-first)' })
  code?: string;
  @ApiPropertyOptional({ example: false, description: 'True when the collection already held a file with the same SHA-256 (left unchanged)' })
  duplicate?: boolean;
  @ApiPropertyOptional({ type: ImageUploadErrorDto })
  error?: ImageUploadErrorDto;
}

export class AddImagesResponseDto {
  @ApiProperty({ example: 2 })
  added: number;
  @ApiProperty({ example: 0 })
  duplicates: number;
  @ApiProperty({ example: 1 })
  failed: number;
  @ApiProperty({ type: [ImageUploadResultDto] })
  results: ImageUploadResultDto[];

  static from(results: ImageUploadResult[]): AddImagesResponseDto {
    const count = (outcome: ImageUploadOutcome) => results.filter((r) => r.outcome === outcome).length;
    return {
      added: count(ImageUploadOutcome.added),
      duplicates: count(ImageUploadOutcome.duplicate),
      failed: count(ImageUploadOutcome.failed),
      results: results.map(({ error, ...result }) => ({ ...result, ...(error ? { error: { ...domainProblemOf(error.code), detail: error.detail } } : {}) })),
    };
  }
}

/** Options shared by every way of searching (JSON body or multipart text fields). */
export class SearchOptionsDto {
  @ApiPropertyOptional({ minimum: 1, maximum: SEARCH_K_MAX, default: 10, description: 'Most results returned' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(SEARCH_K_MAX)
  k: number = 10;

  @ApiPropertyOptional({ minimum: 0, description: 'Only results at most this Hamming distance away (0..bits)', example: 8 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  maxDistance?: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string', nullable: true }, { type: 'number' }, { type: 'boolean' }] },
    description: 'Metadata equality: every key must equal this scalar value (a JSON text field in multipart)',
    example: { label: 'cat' },
  })
  @JsonFormField()
  @IsOptional()
  @IsObject()
  filter?: Record<string, unknown>;
}

/** JSON search: by a stored image or by a code. */
export class SearchRequestDto extends SearchOptionsDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Search with the code of this image of the collection' })
  @IsOptional()
  @IsUUID()
  imageId?: string;

  @ApiPropertyOptional({ description: 'Search with this packed code (hex, bits/4 digits)', example: '9f3a0c71e2b45d08' })
  @IsOptional()
  @IsString()
  @IsHexadecimal()
  code?: string;
}

/** Multipart search by an image: the query image and the search options as text fields. */
export class SearchFormDto extends SearchOptionsDto {
  @FormFile({
    description: 'Query image: JPEG, PNG, WebP, GIF, AVIF or TIFF',
    required: true,
    missing: { problem: 'missing-image', detail: 'Send the query image as the multipart file field "image" (or JSON with imageId or code)' },
  })
  image: UploadedFile;
}

export class SearchHitDto {
  @ApiProperty({ format: 'uuid' })
  imageId: string;
  @ApiProperty({ type: 'string', nullable: true, example: 'cat-001' })
  externalId: string | null;
  @ApiProperty({ example: 3 })
  distance: number;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { label: 'cat' } })
  metadata: Record<string, unknown>;
}

export class SearchResponseDto {
  @ApiProperty({ type: [SearchHitDto], description: 'Nearest first; equal distances oldest image first' })
  results: SearchHitDto[];
  @ApiProperty({ example: 1.7, description: 'Milliseconds spent in the service (decode, encode and search)' })
  tookMs: number;

  /** `started`: performance.now() when the request reached the service. */
  static from(results: SearchResult[], started: number): SearchResponseDto {
    return { results, tookMs: Math.round((performance.now() - started) * 100) / 100 };
  }
}
