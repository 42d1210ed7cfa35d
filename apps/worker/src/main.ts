import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, ConfigModule, loadConfig } from '@lumen/config';
import { DatabaseModule } from '@lumen/database';
import { Logger } from 'nestjs-pino';
import { createLogger, exitGracefullyOn, loggingModule } from '@lumen/http';
import { InferenceModule } from '@lumen/inference';
import { JobsModule } from '@lumen/jobs';
import { SegmentationModule } from '@lumen/segmentation';

/** A job consumer without HTTP: the same job handlers as the API's in-process worker. */
async function bootstrap(): Promise<void> {
  let config;
  try {
    config = { ...loadConfig(), workerEnabled: true };
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  if (!config.databaseUrl) {
    console.error('Invalid configuration:\n  DATABASE_URL: the standalone worker needs the API\'s database (the embedded one belongs to the API process)');
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  @Module({ imports: [loggingModule(logger), ConfigModule.forRoot(config), DatabaseModule, InferenceModule, JobsModule, SegmentationModule] })
  class WorkerModule {}
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  exitGracefullyOn(app, logger);
  await app.init();
  logger.info('Lumen worker started');
}

bootstrap().catch((error: unknown) => {
  console.error(`Lumen worker failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
