import { Module } from '@nestjs/common';
import { HypergraphModule } from '@lumen/hypergraph';
import { HypergraphController } from './hypergraph.controller.js';
import { HypergraphApiService } from './hypergraph.service.js';

@Module({ imports: [HypergraphModule], controllers: [HypergraphController], providers: [HypergraphApiService] })
export class HypergraphApiModule {}
