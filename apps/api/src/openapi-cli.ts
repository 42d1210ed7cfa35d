// `npm run openapi`: writes the API's OpenAPI document to apps/api/openapi.json without starting
// anything: Nest's preview mode registers modules and routes but creates no provider, so no
// database, queue or model is needed. The default configuration is used, as an API started
// without PUBLIC_URL serves it.
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import pino from 'pino';
import { loadConfig } from '@lumen/config';
import { projectRoot } from '@lumen/database';
import { FileSystemStorage } from '@lumen/storage';
import { AppModule } from './app.module.js';
import { createOpenApiDocument } from './openapi.js';

export const OPENAPI_FILE = path.join('apps', 'api', 'openapi.json');

const config = loadConfig({});
const logger = pino({ level: 'silent' });
const app = await NestFactory.create(AppModule.forRoot(config, logger, new FileSystemStorage(config.storageDir)), new FastifyAdapter(), { preview: true, logger: false, abortOnError: false });
const document = createOpenApiDocument(app, config);
const file = path.join(projectRoot(), OPENAPI_FILE);
fs.writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), file)} (${Object.keys(document.paths).length} paths)`);
await app.close();
