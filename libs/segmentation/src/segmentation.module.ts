import { Module } from '@nestjs/common';
import { SegmentationStorage } from './segmentation-storage.js';
import { SegmentationJobHandler } from './segmentation.handler.js';

/** The segmentation job handler and its storage; imported by the API and the worker. */
@Module({ providers: [SegmentationStorage, SegmentationJobHandler], exports: [SegmentationStorage] })
export class SegmentationModule {}
