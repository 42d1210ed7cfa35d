import { Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope } from '@lumen/config';
import { IMAGE_MAX_BYTES } from '@lumen/hashing';
import { MultipartForm, RequireScope, UploadedForm } from '@lumen/http';
import { ApiProblemResponses } from '../problem-responses.js';
import { HashFormDto, HashResponseDto } from './hash.dto.js';
import { HashService } from './hash.service.js';

@ApiTags('image search')
@RequireScope(Scope.Search)
@Controller('hash')
export class HashController {
  constructor(private readonly service: HashService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ operationId: 'hashImage', summary: 'Binary code of one image (nothing is stored)' })
  @MultipartForm(HashFormDto, { maxFileBytes: IMAGE_MAX_BYTES })
  @ApiOkResponse({ type: HashResponseDto })
  @ApiProblemResponses(400, 401, 403, 413, 415, 422, 503)
  hash(@UploadedForm() form: HashFormDto): Promise<HashResponseDto> {
    return this.service.hash(form);
  }
}
