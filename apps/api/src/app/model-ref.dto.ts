import { ApiProperty } from '@nestjs/swagger';

/** Which model (name and version) answered or made the codes: one shape for every endpoint that reports it. */
export class ModelRefDto {
  @ApiProperty({ example: 'hash-cifar10-64bit' })
  name: string;
  @ApiProperty({ example: '1' })
  version: string;

  static from(model: { name: string; version: string }): ModelRefDto {
    return { name: model.name, version: model.version };
  }
}
