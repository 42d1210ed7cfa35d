import { Module } from '@nestjs/common';
import { HypergraphService } from './hypergraph.service.js';

/** Needs the global ConfigModule and InferenceModule. */
@Module({ providers: [HypergraphService], exports: [HypergraphService] })
export class HypergraphModule {}
