import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { LumenConfig } from './config.js';

/** Injection token of the validated configuration. */
export const CONFIG = Symbol('LumenConfig');

/** Makes the configuration that main.ts validated (once, before anything starts) injectable. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: LumenConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] };
  }
}
