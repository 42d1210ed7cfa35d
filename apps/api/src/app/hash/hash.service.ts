import { Injectable } from '@nestjs/common';
import { ImageHasher, codeToHex } from '@lumen/hashing';
import { type HashFormDto, HashResponseDto } from './hash.dto.js';

@Injectable()
export class HashService {
  constructor(private readonly hasher: ImageHasher) {}

  async hash(form: HashFormDto): Promise<HashResponseDto> {
    const model = this.hasher.servedModel(form.bits);
    return HashResponseDto.from(codeToHex(await this.hasher.hashFile(model, form.image)), model);
  }
}
