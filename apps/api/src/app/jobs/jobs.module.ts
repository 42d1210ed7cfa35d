import { Module } from '@nestjs/common';
import { JobsController } from './jobs.controller.js';
import { JobsApiService } from './jobs.service.js';

@Module({ controllers: [JobsController], providers: [JobsApiService], exports: [JobsApiService] })
export class JobsApiModule {}
