import { Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard, ApiKeyService } from './auth.js';
import { ProblemDetailsFilter } from './problem.filter.js';

@Global()
@Module({
  providers: [ApiKeyService, { provide: APP_GUARD, useClass: ApiKeyGuard }, { provide: APP_FILTER, useClass: ProblemDetailsFilter }],
  exports: [ApiKeyService],
})
export class HttpModule {}
