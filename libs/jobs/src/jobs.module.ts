import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { DiagnosticJobHandler } from './diagnostic.handler.js';
import { JobQueueService } from './job-queue.service.js';
import { JobWorkerService } from './job-worker.service.js';
import { JobsService } from './jobs.service.js';
import { WorkerFleetService } from './worker-fleet.service.js';
import { WorkersRepository } from './workers.repository.js';

@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [JobQueueService, JobsService, JobWorkerService, DiagnosticJobHandler, WorkersRepository, WorkerFleetService],
  exports: [JobQueueService, JobsService, WorkersRepository],
})
export class JobsModule {}
