import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Gauge, register } from 'prom-client';
import { Scope } from '@lumen/config';
import { RequireScope } from '@lumen/http';
import { JOB_KINDS, JobsService, WORKER_DEAD_AFTER_MS, WorkersRepository } from '@lumen/jobs';
import { ApiProblemResponses } from '../problem-responses.js';

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(jobs: JobsService, workers: WorkersRepository) {
    register.removeSingleMetric('lumen_workers');
    new Gauge({
      name: 'lumen_workers',
      help: 'Live worker processes (heartbeat within the last 15 s), by device',
      labelNames: ['device'],
      async collect() {
        const live = await workers.live(WORKER_DEAD_AFTER_MS).catch(() => []);
        for (const device of ['cpu', 'cuda']) this.set({ device }, live.filter((w) => w.device === device).length);
      },
    });
    register.removeSingleMetric('lumen_worker_running_jobs');
    new Gauge({
      name: 'lumen_worker_running_jobs',
      help: 'Jobs running on each live worker process',
      labelNames: ['worker', 'device'],
      async collect() {
        this.reset(); // workers come and go
        const [live, running] = await Promise.all([workers.live(WORKER_DEAD_AFTER_MS), workers.runningByWorker()]).catch(() => [[], new Map<string, number>()] as const);
        for (const w of live) this.set({ worker: w.id, device: w.device }, running.get(w.id) ?? 0);
      },
    });
    register.removeSingleMetric('lumen_queue_depth');
    new Gauge({
      name: 'lumen_queue_depth',
      help: 'Jobs waiting to run, by kind',
      labelNames: ['kind'],
      async collect() {
        const depth = await jobs.queuedByKind().catch(() => new Map<string, number>());
        for (const kind of JOB_KINDS) this.set({ kind }, depth.get(kind) ?? 0);
      },
    });
  }

  @Get()
  @RequireScope(Scope.Admin)
  @Header('content-type', register.contentType)
  @ApiProduces('text/plain')
  @ApiOperation({ operationId: 'metrics', summary: 'Prometheus metrics: HTTP latency, inference latency, queue depth, job durations, workers and their running jobs, collection index memory' })
  @ApiOkResponse({ description: 'Prometheus text exposition format', schema: { type: 'string' } })
  @ApiProblemResponses(401, 403)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
