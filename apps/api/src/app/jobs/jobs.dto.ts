import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEnum, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { type Job, JobStatus } from '@lumen/database';
import { JobKind, JobStage, jobStage } from '@lumen/jobs';

export class JobTimingsDto {
  @ApiProperty({ type: 'integer', description: 'Milliseconds between creation and the start of the last attempt (null until it starts)', example: 42, nullable: true })
  queuedMs: number | null;
  @ApiProperty({ type: 'integer', description: 'Milliseconds the last attempt ran (so far, while running; null until it starts)', example: 5120, nullable: true })
  runMs: number | null;
}

export class JobDto {
  @ApiProperty({ format: 'uuid', example: '0b6f2f56-44d3-4f4e-9d55-5d2b0a4c1f3e' })
  id: string;
  @ApiProperty({ enum: JobKind, enumName: 'JobKind', example: JobKind.Diagnostic })
  kind: string;
  @ApiProperty({ enum: JobStatus, enumName: 'JobStatus', example: JobStatus.running })
  status: JobStatus;
  @ApiProperty({ minimum: 0, maximum: 1, example: 0.35 })
  progress: number;
  @ApiProperty({ type: 'string', example: 'stage 2: tile 12/40', nullable: true, description: 'The current stage in words' })
  stage: string | null;
  @ApiProperty({ enum: JobStage, enumName: 'JobStage', example: JobStage.Stage2, description: 'The current stage as a code (stable, unlike `stage`)' })
  stageCode: JobStage;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { durationMs: 1000 } })
  params: unknown;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'Present once succeeded' })
  result: unknown;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'Present once an attempt failed', example: { message: 'reference is on another grid', attempt: 1, retrying: false } })
  error: unknown;
  @ApiProperty({ type: 'integer', example: 1, description: 'Attempts started so far (retries after a crash count)' })
  attempts: number;
  @ApiProperty({ example: 'app', description: 'Name of the API key that created the job' })
  owner: string;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  startedAt: string | null;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  finishedAt: string | null;
  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
  @ApiProperty({ type: JobTimingsDto })
  timings: JobTimingsDto;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { self: '/jobs/0b6f2f56-44d3-4f4e-9d55-5d2b0a4c1f3e', cancel: '/jobs/0b6f2f56-44d3-4f4e-9d55-5d2b0a4c1f3e/cancel' } })
  links: Record<string, string>;

  static from(job: Job): JobDto {
    const end = job.finishedAt ?? (job.status === JobStatus.running ? new Date() : null);
    return {
      id: job.id,
      kind: job.kind,
      status: job.status,
      progress: job.progress,
      stage: job.stage,
      stageCode: jobStage(job.stageCode),
      params: job.params,
      result: job.result,
      error: job.error,
      attempts: job.attempts,
      owner: job.owner,
      createdAt: job.createdAt.toISOString(),
      startedAt: job.startedAt?.toISOString() ?? null,
      finishedAt: job.finishedAt?.toISOString() ?? null,
      updatedAt: job.updatedAt.toISOString(),
      timings: {
        queuedMs: job.startedAt ? job.startedAt.getTime() - job.createdAt.getTime() : null,
        runMs: job.startedAt && end ? end.getTime() - job.startedAt.getTime() : null,
      },
      links: { self: `/jobs/${job.id}`, cancel: `/jobs/${job.id}/cancel` },
    };
  }
}

export class JobPageDto {
  @ApiProperty({ type: [JobDto] })
  items: JobDto[];
  @ApiProperty({ type: 'string', format: 'uuid', nullable: true, description: 'Pass as `cursor` to get the next page; null on the last page' })
  nextCursor: string | null;
}

export class ListJobsQueryDto {
  @ApiPropertyOptional({ enum: JobKind, enumName: 'JobKind' })
  @IsOptional()
  @IsEnum(JobKind)
  kind?: JobKind;

  @ApiPropertyOptional({ enum: JobStatus, enumName: 'JobStatus' })
  @IsOptional()
  @IsEnum(JobStatus)
  status?: JobStatus;

  @ApiPropertyOptional({ format: 'uuid', description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsUUID()
  cursor?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit: number = 50;
}

export class DiagnosticJobRequestDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 600000, default: 1000, description: 'How long the job sleeps' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(600_000)
  durationMs: number = 1000;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 10, description: 'Progress updates along the way' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  steps: number = 10;

  @ApiPropertyOptional({ description: 'Fail permanently with this message at the end (tests error reporting)' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  failWith?: string;
}
