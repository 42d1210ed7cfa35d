import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { ConfigModule, type LumenConfig } from '@lumen/config';
import { DatabaseModule } from '@lumen/database';
import { HttpModule, loggingModule } from '@lumen/http';
import { InferenceModule } from '@lumen/inference';
import { JobsModule } from '@lumen/jobs';
import { type Storage, StorageModule } from '@lumen/storage';
import { CollectionsApiModule } from './app/collections/collections.module.js';
import { HashingApiModule } from './app/hash/hash.module.js';
import { HealthModule } from './app/health/health.module.js';
import { HypergraphApiModule } from './app/hypergraph/hypergraph.module.js';
import { JobsApiModule } from './app/jobs/jobs.module.js';
import { MetricsController } from './app/metrics/metrics.controller.js';
import { ModelsController } from './app/models/models.controller.js';
import { SegmentationsApiModule } from './app/segmentations/segmentations.module.js';
import { OpenInferenceApiModule } from './app/v2/v2.module.js';
import { WebModule } from './app/web/web.module.js';

@Module({})
export class AppModule {
  static forRoot(config: LumenConfig, logger: Logger, storage: Storage): DynamicModule {
    return {
      module: AppModule,
      imports: [loggingModule(logger), ConfigModule.forRoot(config), StorageModule.forRoot(storage), DatabaseModule, JobsModule, InferenceModule, HttpModule, JobsApiModule, HypergraphApiModule, HashingApiModule, CollectionsApiModule, SegmentationsApiModule, OpenInferenceApiModule, WebModule, HealthModule],
      controllers: [ModelsController, MetricsController],
    };
  }
}
