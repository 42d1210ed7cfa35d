import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { type Job, JobStatus, Prisma, PrismaService } from '@lumen/database';
import { JobQueueService } from './job-queue.service.js';
import type { JobKind } from './job-kind.js';
import type { JobParams, TypedJob, TypedJobKind } from './job-payloads.js';
import { JobStage, jobStage } from './job-stage.js';
import { WORKER_ID } from './worker-id.js';

export type JobErrorBody = { message: string; details?: Record<string, unknown>; attempt: number; retrying: boolean };

export type ListJobsQuery = { kind?: string; status?: JobStatus; owner?: string; cursor?: string; limit: number };

const ACTIVE: JobStatus[] = [JobStatus.queued, JobStatus.running];

/**
 * The one place a stored record becomes typed: what `enqueue` wrote for kind K is K's params,
 * and only K's handler writes its result (JSON in, the same JSON out).
 */
function typed<K extends TypedJobKind>(job: Job): TypedJob<K> {
  return { ...job, stageCode: jobStage(job.stageCode) } as TypedJob<K>;
}

/** The job records users see (table `job`), kept beside pg-boss's own queue rows. */
@Injectable()
export class JobsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly queue: JobQueueService,
  ) {}

  /** Records the job, then queues it under the same id. */
  async enqueue<K extends TypedJobKind>(kind: K, owner: string, params: JobParams<K>, id: string = randomUUID()): Promise<TypedJob<K>> {
    const job = await this.prisma.job.create({ data: { id, kind, owner, params: params as Prisma.InputJsonObject, stageCode: JobStage.Queued } });
    try {
      await this.queue.send(kind, id);
    } catch (error) {
      await this.prisma.job.delete({ where: { id } });
      throw error;
    }
    return typed<K>(job);
  }

  find(id: string): Promise<Job | null> {
    return this.prisma.job.findUnique({ where: { id } });
  }

  /** The job of kind K with this id, typed; null when there is none of that kind. */
  async findOf<K extends TypedJobKind>(kind: K, id: string): Promise<TypedJob<K> | null> {
    const job = await this.prisma.job.findUnique({ where: { id } });
    return job?.kind === kind ? typed<K>(job) : null;
  }

  /** Newest first; `cursor` is the id of the last job of the previous page. */
  async list(query: ListJobsQuery): Promise<{ items: Job[]; nextCursor: string | null }> {
    const items = await this.prisma.job.findMany({
      where: { kind: query.kind, status: query.status, owner: query.owner },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
      ...(query.cursor ? { cursor: { id: query.cursor }, skip: 1 } : {}),
    });
    const hasMore = items.length > query.limit;
    if (hasMore) items.pop();
    return { items, nextCursor: hasMore ? items[items.length - 1].id : null };
  }

  /** Cancels a queued or running job; returns the record as it now stands. */
  async cancel(job: Job): Promise<Job> {
    if (!ACTIVE.includes(job.status)) return job;
    const updated = await this.prisma.job.updateManyAndReturn({
      where: { id: job.id, status: { in: ACTIVE } },
      data: { status: JobStatus.canceled, finishedAt: new Date(), stage: 'canceled', stageCode: JobStage.Canceled },
    });
    await this.queue.cancel(job.kind as JobKind, job.id).catch(() => undefined);
    return updated[0] ?? (await this.prisma.job.findUniqueOrThrow({ where: { id: job.id } }));
  }

  /** Deletes the record (cancelling the job first if it is still queued or running). */
  async remove(job: Job): Promise<void> {
    await this.cancel(job);
    await this.queue.boss.deleteJob(job.kind, job.id).catch(() => undefined);
    await this.prisma.job.delete({ where: { id: job.id } });
  }

  /** Claims the record for an attempt by this worker process; null when the job was canceled meanwhile. */
  async markRunning<K extends TypedJobKind>(kind: K, id: string): Promise<TypedJob<K> | null> {
    const rows = await this.prisma.job.updateManyAndReturn({
      where: { id, kind, status: { in: ACTIVE } },
      data: { status: JobStatus.running, attempts: { increment: 1 }, startedAt: new Date(), progress: 0, stage: 'starting', stageCode: JobStage.Starting, workerId: WORKER_ID },
    });
    return rows[0] ? typed<K>(rows[0]) : null;
  }

  /** Writes progress, the stage code and its text; false when the job is no longer running (canceled). */
  async progress(id: string, fraction: number, stage: JobStage, text: string = stage): Promise<boolean> {
    const { count } = await this.prisma.job.updateMany({
      where: { id, status: JobStatus.running },
      data: { progress: Math.min(1, Math.max(0, fraction)), stage: text, stageCode: stage },
    });
    return count === 1;
  }

  async succeed<K extends TypedJobKind>(id: string, result: TypedJob<K>['result']): Promise<void> {
    await this.prisma.job.updateMany({
      where: { id, status: JobStatus.running },
      data: { status: JobStatus.succeeded, progress: 1, stage: 'done', stageCode: JobStage.Done, result: result as Prisma.InputJsonValue, error: Prisma.DbNull, finishedAt: new Date() },
    });
  }

  async fail(id: string, error: JobErrorBody): Promise<void> {
    await this.prisma.job.updateMany({
      where: { id, status: JobStatus.running },
      data: error.retrying
        ? { status: JobStatus.queued, stage: 'waiting for retry', stageCode: JobStage.Retrying, error: error as Prisma.InputJsonObject }
        : { status: JobStatus.failed, stage: 'failed', stageCode: JobStage.Failed, error: error as Prisma.InputJsonObject, finishedAt: new Date() },
    });
  }

  /** Queued jobs per kind, for the queue-depth metric. */
  async queuedByKind(): Promise<Map<string, number>> {
    const groups = await this.prisma.job.groupBy({ by: ['kind'], where: { status: JobStatus.queued }, _count: { _all: true } });
    return new Map(groups.map((g) => [g.kind, g._count._all]));
  }
}
