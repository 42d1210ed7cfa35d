import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Gauge, register } from 'prom-client';
import { Scope } from '@lumen/config';
import { RequireScope } from '@lumen/http';
import { JOB_KINDS, JobsService } from '@lumen/jobs';
import { ApiProblemResponses } from '../problem-responses.js';

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(jobs: JobsService) {
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
  @ApiOperation({ operationId: 'metrics', summary: 'Prometheus metrics: HTTP latency, inference latency, queue depth, job durations' })
  @ApiOkResponse({ description: 'Prometheus text exposition format', schema: { type: 'string' } })
  @ApiProblemResponses(401, 403)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
