import { Logger, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { organsBrowserModule } from '@lumen/segmentation';
import { WEB_CONTENT_SECURITY_POLICY, findWebRoot, registerWebPage, vendorFiles } from './web-page.js';

/**
 * Serves the researchers' page (apps/web) at `/` and its files at `/assets/*`, with NiiVue's
 * browser bundle from node_modules at `/assets/vendor/niivue.js`.
 *
 * The routes are plain Fastify routes, outside Nest's router, so the API-key guard does not
 * apply: the page is public and asks for the key itself. They are registered while the
 * application initialises, before Fastify starts listening; every API route, /docs and /health
 * are more specific paths and keep matching first.
 */
@Module({})
export class WebModule implements OnModuleInit {
  private readonly logger = new Logger('WebPage');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  async onModuleInit(): Promise<void> {
    const root = findWebRoot(import.meta.dirname);
    if (!root) {
      this.logger.warn('apps/web/index.html not found above this build: the web page is not served at /');
      return;
    }
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    await registerWebPage(fastify, root, WEB_CONTENT_SECURITY_POLICY, { 'js/organs.js': organsBrowserModule() }, vendorFiles());
    this.logger.log(`web page at / (from ${root})`);
  }
}
