import { Module } from '@nestjs/common';
import { HashingModule } from '@lumen/hashing';
import { CollectionIndexes } from './collection-indexes.js';
import { CollectionsRepository } from './collections.repository.js';
import { CollectionsService } from './collections.service.js';

/** Image collections over the hashing models (needs DatabaseModule and InferenceModule, which are global). */
@Module({ imports: [HashingModule], providers: [CollectionsRepository, CollectionIndexes, CollectionsService], exports: [CollectionsService] })
export class CollectionsModule {}
