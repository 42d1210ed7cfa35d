import { Module } from '@nestjs/common';
import { SegmentationModule } from '@lumen/segmentation';
import { SegmentationsController } from './segmentations.controller.js';
import { SegmentationsService } from './segmentations.service.js';

@Module({ imports: [SegmentationModule], controllers: [SegmentationsController], providers: [SegmentationsService] })
export class SegmentationsApiModule {}
