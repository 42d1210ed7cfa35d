import { Injectable } from '@nestjs/common';
import { HashingModelError, ImageHasher, ImageRejectedError, codeToHex } from '@lumen/hashing';
import { domainProblem, fileProblem } from '@lumen/http';
import { type HashFormDto, HashResponseDto } from './hash.dto.js';

@Injectable()
export class HashService {
  constructor(private readonly hasher: ImageHasher) {}

  async hash(form: HashFormDto): Promise<HashResponseDto> {
    try {
      const model = this.hasher.servedModel(form.bits);
      return HashResponseDto.from(codeToHex(await this.hasher.hashFile(model, form.image.path)), model);
    } catch (error) {
      if (error instanceof ImageRejectedError) throw fileProblem(error, form.image);
      if (error instanceof HashingModelError) throw domainProblem(error);
      throw error;
    }
  }
}
