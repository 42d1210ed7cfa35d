import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { type JobContext, JobHandler, type JobRunner, PermanentJobError } from './job-handler.js';
import { JobKind } from './job-kind.js';
import { JobStage } from './job-stage.js';

export type DiagnosticParams = { durationMs: number; steps: number; failWith?: string };
export type DiagnosticResult = { sleptMs: number; steps: number; pid: number; attempt: number };

/** Sleeps in steps, reporting progress: exercises queueing, progress, cancel and crash recovery. */
@Injectable()
@JobHandler({ kind: JobKind.Diagnostic, concurrency: 4 })
export class DiagnosticJobHandler implements JobRunner<JobKind.Diagnostic> {
  async run({ params, progress, signal, attempt }: JobContext<JobKind.Diagnostic>): Promise<DiagnosticResult> {
    const stepMs = params.durationMs / params.steps;
    for (let step = 0; step < params.steps; step++) {
      await progress(step / params.steps, JobStage.Running, `step ${step + 1}/${params.steps}`);
      await sleep(stepMs, undefined, { signal });
    }
    if (params.failWith) throw new PermanentJobError(params.failWith);
    return { sleptMs: params.durationMs, steps: params.steps, pid: process.pid, attempt };
  }
}
