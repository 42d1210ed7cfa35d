import fs from 'node:fs';
import { Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Scope } from '@lumen/config';
import { CurrentPrincipal, MultipartForm, type Principal, RequireScope, UploadedForm } from '@lumen/http';
import { ApiProblemResponses } from '../problem-responses.js';
import { SegmentationDto, SegmentationUploadDto } from './segmentations.dto.js';
import { SegmentationsService } from './segmentations.service.js';

@ApiTags('segmentations')
@RequireScope(Scope.Segment)
@Controller('segmentations')
export class SegmentationsController {
  constructor(private readonly service: SegmentationsService) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @MultipartForm(SegmentationUploadDto)
  @ApiOperation({
    operationId: 'createSegmentation',
    summary: 'Upload a CT and queue cascaded organ segmentation (liver, spleen, pancreas)',
    description: 'The header (or DICOM series) is checked before queuing; follow `links.self` for progress and results.',
  })
  @ApiAcceptedResponse({ type: SegmentationDto })
  @ApiProblemResponses(400, 401, 403, 413, 415, 422, 503)
  async create(@UploadedForm() form: SegmentationUploadDto, @CurrentPrincipal() principal: Principal): Promise<SegmentationDto> {
    return SegmentationDto.from(await this.service.create(principal, form));
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getSegmentation', summary: 'Status, progress, per-organ statistics, Dice, timings' })
  @ApiOkResponse({ type: SegmentationDto })
  @ApiProblemResponses(400, 401, 403, 404)
  async get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal): Promise<SegmentationDto> {
    return SegmentationDto.from(await this.service.find(principal, id));
  }

  @Get(':id/labels')
  @ApiProduces('application/gzip')
  @ApiOperation({ operationId: 'getSegmentationLabels', summary: "The label map (NIfTI .nii.gz) on the input's exact grid: 1 liver, 2 spleen, 3 pancreas" })
  @ApiOkResponse({ description: 'NIfTI-1, gzip-compressed, uint8', schema: { type: 'string', format: 'binary' } })
  @ApiProblemResponses(400, 401, 403, 404, 409)
  async labels(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal, @Res() reply: FastifyReply): Promise<void> {
    const file = await this.service.outputFile(principal, id, 'labels.nii.gz');
    await reply
      .header('content-type', 'application/gzip')
      .header('content-disposition', `attachment; filename="${id}_labels.nii.gz"`)
      .send(fs.createReadStream(file));
  }

  @Get(':id/preview')
  @ApiProduces('image/png')
  @ApiOperation({ operationId: 'getSegmentationPreview', summary: 'PNG: axial, coronal and sagittal slices through the organs with a coloured overlay' })
  @ApiOkResponse({ description: 'PNG image', schema: { type: 'string', format: 'binary' } })
  @ApiProblemResponses(400, 401, 403, 404, 409)
  async preview(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal, @Res() reply: FastifyReply): Promise<void> {
    const file = await this.service.outputFile(principal, id, 'preview.png');
    await reply.header('content-type', 'image/png').send(fs.createReadStream(file));
  }

  @Get(':id/image')
  @ApiProduces('application/octet-stream')
  @ApiOperation({
    operationId: 'getSegmentationImage',
    summary: 'The CT the segmentation was made from, for viewers: the upload (NIfTI, NRRD, MHA) or, for DICOM, the series as read (NIfTI .nii.gz)',
  })
  @ApiOkResponse({ description: 'The volume file; Content-Disposition names it with its format extension', schema: { type: 'string', format: 'binary' } })
  @ApiProblemResponses(400, 401, 403, 404, 409)
  async image(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal, @Res() reply: FastifyReply): Promise<void> {
    const { file, name } = await this.service.imageFile(principal, id);
    await reply.header('content-type', 'application/octet-stream').header('content-disposition', `attachment; filename="${name}"`).send(fs.createReadStream(file));
  }

  @Get(':id/dicom-seg')
  @ApiProduces('application/dicom')
  @ApiOperation({
    operationId: 'getSegmentationDicomSeg',
    summary: 'DICOM inputs: the organs as a DICOM Segmentation object (binary SEG, SNOMED CT coded, referencing the source series)',
    description: 'One segment per organ found; frames lie on the source slices and reference them. 409 for NIfTI/NRRD/MHA inputs, while unfinished, or when the source cannot carry a SEG (reason given).',
  })
  @ApiOkResponse({ description: 'DICOM Part-10 file, Segmentation Storage, Explicit VR Little Endian', schema: { type: 'string', format: 'binary' } })
  @ApiProblemResponses(400, 401, 403, 404, 409)
  async dicomSeg(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal, @Res() reply: FastifyReply): Promise<void> {
    const file = await this.service.dicomSegFile(principal, id);
    await reply
      .header('content-type', 'application/dicom')
      .header('content-disposition', `attachment; filename="${id}_seg.dcm"`)
      .send(fs.createReadStream(file));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ operationId: 'deleteSegmentation', summary: 'Delete a segmentation: cancels it if running, removes its upload, outputs and record' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblemResponses(400, 401, 403, 404)
  async remove(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.service.remove(principal, id);
  }
}
