import { Controller, HttpCode, HttpStatus, Post, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Scope } from '@lumen/config';
import { RequireScope } from '@lumen/http';
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
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: HashFormDto })
  @ApiOkResponse({ type: HashResponseDto })
  @ApiProblemResponses(400, 401, 403, 413, 415, 422, 503)
  hash(@Req() request: FastifyRequest): Promise<HashResponseDto> {
    return this.service.hash(request);
  }
}
