import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IMAGE_MAX_BYTES } from '@lumen/hashing';
import { Scope } from '@lumen/config';
import { CurrentPrincipal, MultipartForm, type Principal, RequireScope, UploadedForm } from '@lumen/http';
import { ApiProblemResponses } from '../problem-responses.js';
import { ApiRequestBodies } from '../request-bodies.js';
import {
  AddImagesFormDto,
  AddImagesResponseDto,
  CollectionDto,
  CollectionListDto,
  CreateCollectionDto,
  SearchFormDto,
  SearchRequestDto,
  SearchResponseDto,
} from './collections.dto.js';
import { CollectionsApiService } from './collections.service.js';

@ApiTags('image search')
@RequireScope(Scope.Search)
@Controller('collections')
export class CollectionsController {
  constructor(private readonly service: CollectionsApiService) {}

  @Post()
  @ApiOperation({ operationId: 'createCollection', summary: 'Create an image collection; its bit length (model) is fixed from now on' })
  @ApiCreatedResponse({ type: CollectionDto })
  @ApiProblemResponses(400, 401, 403, 503)
  create(@Body() body: CreateCollectionDto, @CurrentPrincipal() principal: Principal): Promise<CollectionDto> {
    return this.service.create(principal, body);
  }

  @Get()
  @ApiOperation({ operationId: 'listCollections', summary: "The caller's collections, newest first (all for admin keys)" })
  @ApiOkResponse({ type: CollectionListDto })
  @ApiProblemResponses(401, 403)
  list(@CurrentPrincipal() principal: Principal): Promise<CollectionListDto> {
    return this.service.list(principal);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getCollection', summary: 'One collection: image count, bits and model' })
  @ApiOkResponse({ type: CollectionDto })
  @ApiProblemResponses(400, 401, 403, 404)
  get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal): Promise<CollectionDto> {
    return this.service.get(principal, id);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ operationId: 'deleteCollection', summary: 'Delete a collection and all its images' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblemResponses(400, 401, 403, 404)
  delete(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    return this.service.delete(principal, id);
  }

  @Post(':id/images')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'addImages',
    summary: 'Hash and add images; each file gets its own result (id and code, the existing id for a duplicate, or an error)',
  })
  @MultipartForm(AddImagesFormDto, { maxFileBytes: IMAGE_MAX_BYTES })
  @ApiOkResponse({ type: AddImagesResponseDto })
  @ApiProblemResponses(400, 401, 403, 404, 409, 413, 415, 503)
  addImages(@Param('id', new ParseUUIDPipe()) id: string, @UploadedForm() form: AddImagesFormDto, @CurrentPrincipal() principal: Principal): Promise<AddImagesResponseDto> {
    return this.service.addImages(principal, id, form);
  }

  @Delete(':id/images/:imageId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ operationId: 'deleteImage', summary: 'Remove one image from a collection' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblemResponses(400, 401, 403, 404)
  deleteImage(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Param('imageId', new ParseUUIDPipe()) imageId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    return this.service.deleteImage(principal, id, imageId);
  }

  @Post(':id/search')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'searchCollection',
    summary: 'Nearest images by Hamming distance: JSON with imageId or code, or multipart with an image (k, maxDistance, filter in both)',
  })
  @MultipartForm(SearchFormDto, { maxFileBytes: IMAGE_MAX_BYTES, orJson: true })
  @ApiRequestBodies({ 'application/json': SearchRequestDto, 'multipart/form-data': SearchFormDto })
  @ApiOkResponse({ type: SearchResponseDto })
  @ApiProblemResponses(400, 401, 403, 404, 409, 413, 415, 422, 503)
  search(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: SearchRequestDto,
    @UploadedForm() form: SearchFormDto | undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SearchResponseDto> {
    return this.service.search(principal, id, body, form);
  }
}
