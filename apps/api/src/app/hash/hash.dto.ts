import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { HashingModel } from '@lumen/hashing';
import { FormFile, type UploadedFile } from '@lumen/http';
import { ModelRefDto } from '../model-ref.dto.js';

/** The multipart form of POST /hash. */
export class HashFormDto {
  @FormFile({
    description: 'JPEG, PNG, WebP, GIF (first frame), AVIF or TIFF',
    required: true,
    missing: { problem: 'missing-image', detail: 'Send the image as the multipart file field "image"' },
  })
  image: UploadedFile;

  @ApiPropertyOptional({ description: 'Bit length of the model to use (default: the 64-bit model)', example: 48, minimum: 1, maximum: 4096 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(4096)
  bits?: number;
}

export class HashResponseDto {
  @ApiProperty({ description: 'Packed code in hex: bit i is bit (7 − i mod 8) of byte ⌊i/8⌋ (MSB-first)', example: '9f3a0c71e2b45d08' })
  code: string;
  @ApiProperty({ example: 64 })
  bits: number;
  @ApiProperty({ type: ModelRefDto })
  model: ModelRefDto;

  static from(code: string, model: HashingModel): HashResponseDto {
    return { code, bits: model.bits, model: ModelRefDto.from(model) };
  }
}
