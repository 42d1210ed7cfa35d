import { Module } from '@nestjs/common';
import { V2Controller, V2HealthController } from './v2.controller.js';
import { V2Service } from './v2.service.js';

/** The Open Inference Protocol (KServe v2 REST) under /v2 for every model of the registry. */
@Module({ controllers: [V2HealthController, V2Controller], providers: [V2Service] })
export class OpenInferenceApiModule {}
