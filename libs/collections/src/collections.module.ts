import { Module } from '@nestjs/common';
import { HashingModule } from '@lumen/hashing';
import { CollectionFeed } from './collection-feed.js';
import { CollectionIndexes } from './collection-indexes.js';
import { CollectionsRepository } from './collections.repository.js';
import { CollectionsService } from './collections.service.js';

/** Image collections over the hashing models (needs DatabaseModule and InferenceModule, which are global). */
@Module({ imports: [HashingModule], providers: [CollectionsRepository, CollectionIndexes, CollectionFeed, CollectionsService], exports: [CollectionsService] })
export class CollectionsModule {}
