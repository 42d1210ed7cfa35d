import { Body, Controller, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope } from '@lumen/config';
import { CurrentPrincipal, type Principal, RequireScope } from '@lumen/http';
import { JobKind } from '@lumen/jobs';
import { ApiProblemResponses } from '../problem-responses.js';
import { DiagnosticJobRequestDto, JobDto, JobPageDto, ListJobsQueryDto } from './jobs.dto.js';
import { JobsApiService } from './jobs.service.js';

@ApiTags('jobs')
@Controller('jobs')
export class JobsController {
  constructor(private readonly service: JobsApiService) {}

  @Get()
  @ApiOperation({ operationId: 'listJobs', summary: "The caller's jobs, newest first (all jobs for admin keys)" })
  @ApiOkResponse({ type: JobPageDto })
  @ApiProblemResponses(400, 401)
  list(@Query() query: ListJobsQueryDto, @CurrentPrincipal() principal: Principal): Promise<JobPageDto> {
    return this.service.list(principal, query);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getJob', summary: 'Status, progress, stage, timings and result or error of a job' })
  @ApiOkResponse({ type: JobDto })
  @ApiProblemResponses(400, 401, 404)
  get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal): Promise<JobDto> {
    return this.service.get(principal, id);
  }

  @Post(':id/cancel')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ operationId: 'cancelJob', summary: 'Cancel a queued or running job (no-op once finished)' })
  @ApiOkResponse({ type: JobDto })
  @ApiProblemResponses(400, 401, 404)
  cancel(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal): Promise<JobDto> {
    return this.service.cancel(principal, id);
  }

  @Post('diagnostics')
  @RequireScope(Scope.Admin)
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ operationId: 'createDiagnosticJob', summary: 'Queue a job that sleeps and reports progress (checks the queue and workers)' })
  @ApiAcceptedResponse({ type: JobDto })
  @ApiProblemResponses(400, 401, 403)
  diagnostic(@Body() body: DiagnosticJobRequestDto, @CurrentPrincipal() principal: Principal): Promise<JobDto> {
    return this.service.create(principal, JobKind.Diagnostic, { ...body });
  }
}
