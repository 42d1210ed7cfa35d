import { Module } from '@nestjs/common';
import { HashingModule } from '@lumen/hashing';
import { CollectionsApiModule } from '../collections/collections.module.js';
import { HashController } from './hash.controller.js';
import { HashService } from './hash.service.js';

/** Deep-hashing image search: POST /hash and the /collections routes. */
@Module({ imports: [HashingModule, CollectionsApiModule], controllers: [HashController], providers: [HashService], exports: [HashService] })
export class HashingApiModule {}
