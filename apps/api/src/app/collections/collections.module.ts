import { Module } from '@nestjs/common';
import { HashingModule } from '@lumen/hashing';
import { CollectionIndexes } from './collection-indexes.js';
import { CollectionsController } from './collections.controller.js';
import { CollectionsService } from './collections.service.js';

@Module({ imports: [HashingModule], controllers: [CollectionsController], providers: [CollectionsService, CollectionIndexes], exports: [CollectionsService] })
export class CollectionsApiModule {}
