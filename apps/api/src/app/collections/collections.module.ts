import { Module } from '@nestjs/common';
import { CollectionsModule } from '@lumen/collections';
import { CollectionsController } from './collections.controller.js';
import { CollectionsApiService } from './collections.service.js';

/** Image collections: the /collections routes. */
@Module({ imports: [CollectionsModule], controllers: [CollectionsController], providers: [CollectionsApiService] })
export class CollectionsApiModule {}
