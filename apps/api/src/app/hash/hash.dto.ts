import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** Text fields of the POST /hash form. */
export class HashFormFieldsDto {
  @ApiPropertyOptional({ description: 'Bit length of the model to use (default: the 64-bit model)', example: 48, minimum: 1, maximum: 4096 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(4096)
  bits?: number;
}

/** The multipart form of POST /hash (documentation only: the route reads the stream itself). */
export class HashFormDto extends HashFormFieldsDto {
  @ApiProperty({ type: 'string', format: 'binary', description: 'JPEG, PNG, WebP, GIF (first frame), AVIF or TIFF' })
  image: unknown;
}

export class HashModelDto {
  @ApiProperty({ example: 'hash-cifar10-64bit' })
  name: string;
  @ApiProperty({ example: '1' })
  version: string;
}

export class HashResponseDto {
  @ApiProperty({ description: 'Packed code in hex: bit i is bit (7 − i mod 8) of byte ⌊i/8⌋ (MSB-first)', example: '9f3a0c71e2b45d08' })
  code: string;
  @ApiProperty({ example: 64 })
  bits: number;
  @ApiProperty({ type: HashModelDto })
  model: HashModelDto;
}
