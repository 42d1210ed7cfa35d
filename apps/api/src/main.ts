import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError, loadConfig } from '@lumen/config';
import { Logger } from 'nestjs-pino';
import { AdminKeyFileError, createLogger, exitGracefullyOn } from '@lumen/http';
import { StorageUnavailableError, openStorage } from '@lumen/storage';
import { AppModule } from './app.module.js';
import { configureHttp, createFastifyAdapter } from './http-server.js';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const storage = await openStorage(config); // before anything starts: no storage, no start
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logger, storage), createFastifyAdapter(logger), { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  await configureHttp(app, config);
  exitGracefullyOn(app, logger);
  await app.listen({ port: config.port, host: config.host });
  logger.info({ port: config.port, worker: config.workerEnabled }, `Lumen API listening on http://${config.host}:${config.port} (docs at /docs)`);
}

bootstrap().catch((error: unknown) => {
  // A refusal that names its own fix needs no stack trace.
  const message = error instanceof AdminKeyFileError || error instanceof StorageUnavailableError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error(`Lumen failed to start: ${message}`);
  process.exit(1);
});
