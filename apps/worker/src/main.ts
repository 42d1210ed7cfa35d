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
import { StorageModule, StorageUnavailableError, openStorage } from '@lumen/storage';

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
  const storage = await openStorage(config); // before anything starts: no storage, no start
  @Module({ imports: [loggingModule(logger), ConfigModule.forRoot(config), StorageModule.forRoot(storage), DatabaseModule, InferenceModule, JobsModule, SegmentationModule] })
  class WorkerModule {}
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  exitGracefullyOn(app, logger);
  await app.init();
  logger.info('Lumen worker started');
}

bootstrap().catch((error: unknown) => {
  // A refusal that names its own fix needs no stack trace.
  const message = error instanceof StorageUnavailableError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error(`Lumen worker failed to start: ${message}`);
  process.exit(1);
});
