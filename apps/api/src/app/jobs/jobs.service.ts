import { Injectable } from '@nestjs/common';
import { type Principal, canSee } from '@lumen/http';
import { JobError, type JobParams, JobsService, type TypedJobKind } from '@lumen/jobs';
import { JobDto, type JobPageDto, type ListJobsQueryDto } from './jobs.dto.js';

@Injectable()
export class JobsApiService {
  constructor(private readonly jobs: JobsService) {}

  /** A job the caller may see, else 404 (another key's job does not exist for it). */
  async visibleJob(principal: Principal, id: string) {
    const job = await this.jobs.find(id);
    if (!job || !canSee(principal, job.owner)) throw new JobError('job.not-found', `No job ${id}`);
    return job;
  }

  async get(principal: Principal, id: string): Promise<JobDto> {
    return JobDto.from(await this.visibleJob(principal, id));
  }

  async list(principal: Principal, query: ListJobsQueryDto): Promise<JobPageDto> {
    if (query.cursor) await this.visibleJob(principal, query.cursor);
    const page = await this.jobs.list({ ...query, owner: principal.admin ? undefined : principal.name });
    return { items: page.items.map((job) => JobDto.from(job)), nextCursor: page.nextCursor };
  }

  async cancel(principal: Principal, id: string): Promise<JobDto> {
    return JobDto.from(await this.jobs.cancel(await this.visibleJob(principal, id)));
  }

  async create<K extends TypedJobKind>(principal: Principal, kind: K, params: JobParams<K>): Promise<JobDto> {
    return JobDto.from(await this.jobs.enqueue(kind, principal.name, params));
  }
}
