import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsHexadecimal, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';

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

export class CollectionModelDto {
  @ApiProperty({ example: 'hash-cifar10-64bit' })
  name: string;
  @ApiProperty({ example: '1' })
  version: string;
}

export class CollectionDto {
  @ApiProperty({ format: 'uuid', example: '5d0c6a1e-8a51-4c1e-b0a4-2f6f1f0a7b3c' })
  id: string;
  @ApiProperty({ example: 'holiday photos' })
  name: string;
  @ApiProperty({ example: 64 })
  bits: number;
  @ApiProperty({ type: CollectionModelDto })
  model: CollectionModelDto;
  @ApiProperty({ example: 1250, description: 'Images in the collection' })
  count: number;
  @ApiProperty({ example: 'app', description: 'Name of the API key that owns it' })
  owner: string;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
  @ApiProperty({ example: { self: '/collections/5d0c6a1e-8a51-4c1e-b0a4-2f6f1f0a7b3c', images: '/collections/5d0c6a1e-8a51-4c1e-b0a4-2f6f1f0a7b3c/images', search: '/collections/5d0c6a1e-8a51-4c1e-b0a4-2f6f1f0a7b3c/search' } })
  links: Record<string, string>;
}

export class CollectionListDto {
  @ApiProperty({ type: [CollectionDto] })
  items: CollectionDto[];
}

/** The multipart form of POST /collections/{id}/images (documentation only). */
export class AddImagesFormDto {
  @ApiProperty({ type: 'array', items: { type: 'string', format: 'binary' }, description: `One or more image files (at most 1000): JPEG, PNG, WebP, GIF, AVIF or TIFF` })
  images: unknown[];
  @ApiPropertyOptional({ description: 'JSON array, one string or null per file, in file order', example: '["cat-001", null]' })
  externalIds?: string;
  @ApiPropertyOptional({ description: 'JSON array, one object or null per file, in file order', example: '[{"label": "cat"}, {"label": "dog"}]' })
  metadata?: string;
}

export enum ImageUploadOutcome {
  added = 'added',
  duplicate = 'duplicate',
  failed = 'failed',
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
  @ApiPropertyOptional({ nullable: true, example: 'cat-001' })
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
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }], nullable: true },
    description: 'Metadata equality: every key must equal this scalar value (a JSON text field in multipart)',
    example: { label: 'cat' },
  })
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

/** Multipart search by an image (documentation only; text fields are validated as SearchOptionsDto). */
export class SearchFormDto {
  @ApiProperty({ type: 'string', format: 'binary', description: 'Query image: JPEG, PNG, WebP, GIF, AVIF or TIFF' })
  image: unknown;
  @ApiPropertyOptional({ example: '10' })
  k?: string;
  @ApiPropertyOptional({ example: '12' })
  maxDistance?: string;
  @ApiPropertyOptional({ description: 'JSON object', example: '{"label":"cat"}' })
  filter?: string;
}

export class SearchHitDto {
  @ApiProperty({ format: 'uuid' })
  imageId: string;
  @ApiPropertyOptional({ nullable: true, example: 'cat-001' })
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
}
