import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { ImageHasher, ImageRejectedError, codeToHex } from '@lumen/hashing';
import { ProblemException, receiveMultipart } from '@lumen/http';
import { HashFormFieldsDto, type HashResponseDto } from './hash.dto.js';
import { imageBytesLimit, imageProblem, readUpload, servedModel, uploadDirectory, validateFields } from './image-uploads.js';

@Injectable()
export class HashService {
  constructor(
    private readonly hasher: ImageHasher,
    @Inject(CONFIG) private readonly config: LumenConfig,
  ) {}

  async hash(request: FastifyRequest): Promise<HashResponseDto> {
    const upload = await receiveMultipart(request, { directory: uploadDirectory(this.config), maxFileBytes: imageBytesLimit(this.config), maxFiles: 1, fileFields: ['image'] });
    try {
      const fields = await validateFields(HashFormFieldsDto, upload.fields);
      const file = upload.files[0];
      if (!file) throw new ProblemException(HttpStatus.BAD_REQUEST, 'missing-image', 'Send the image as the multipart file field "image"');
      const model = servedModel(this.hasher, fields.bits);
      let code: Uint8Array;
      try {
        code = await this.hasher.hash(model, await readUpload(file));
      } catch (error) {
        if (error instanceof ImageRejectedError) throw imageProblem(error, file);
        throw error;
      }
      return { code: codeToHex(code), bits: model.bits, model: { name: model.name, version: model.version } };
    } finally {
      await upload.cleanup();
    }
  }
}
