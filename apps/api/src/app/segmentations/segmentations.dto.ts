import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JobStatus } from '@lumen/database';
import { JobStage } from '@lumen/jobs';
import { Organ } from '@lumen/segmentation';

export class SegmentationUploadDto {
  @ApiProperty({ type: 'string', format: 'binary', description: 'The CT: .nii, .nii.gz, .nrrd, .mha, or a .zip of one DICOM series' })
  image: unknown;
  @ApiPropertyOptional({ type: 'string', format: 'binary', description: 'A label map on the same grid (.nii, .nii.gz, .nrrd, .mha): Dice per organ is reported' })
  reference?: unknown;
  @ApiPropertyOptional({ description: 'JSON object organ → label id in the reference (default {"liver":1,"spleen":2,"pancreas":3})', example: '{"liver":5,"spleen":1,"pancreas":7}' })
  referenceLabels?: string;
  @ApiPropertyOptional({ description: 'Organs to segment: JSON array or comma-separated (default all)', example: 'liver,pancreas' })
  organs?: string;
  @ApiPropertyOptional({ description: 'Stage 1 only (coarse, fast)', example: 'false' })
  fast?: string;
  @ApiPropertyOptional({ description: 'For a zip holding several DICOM series: the SeriesInstanceUID to segment' })
  seriesUid?: string;
}

export class GeometryDto {
  @ApiProperty({ example: [122, 101, 30], description: 'Voxels along the stored index axes i, j, k' })
  size: number[];
  @ApiProperty({ example: [3, 3, 3], description: 'mm per voxel along i, j, k' })
  spacing: number[];
  @ApiProperty({ example: [177.96, -11.32, 94.3], description: 'Physical position (LPS mm) of voxel (0,0,0)' })
  origin: number[];
  @ApiProperty({ example: [-1, 0, 0, 0, -1, 0, 0, 0, 1], description: 'Direction cosines, row-major; column c is index axis c in LPS' })
  direction: number[];
}

export class BoundingBoxDto {
  @ApiProperty({ example: [-120.5, -40.2, -60] })
  min: number[];
  @ApiProperty({ example: [10.1, 80.4, 90] })
  max: number[];
}

export class OrganResultDto {
  @ApiProperty({ example: 1, description: 'Label id in the returned label map' })
  label: number;
  @ApiProperty({ example: 38634 })
  voxels: number;
  @ApiProperty({ example: 1043.1 })
  volumeMl: number;
  @ApiPropertyOptional({ example: 95.2, nullable: true })
  meanHu: number | null;
  @ApiPropertyOptional({ example: 21.7, nullable: true })
  stdHu: number | null;
  @ApiPropertyOptional({ type: BoundingBoxDto, nullable: true, description: 'Physical LPS mm box of the organ voxel centres' })
  boundingBoxMm: BoundingBoxDto | null;
  @ApiPropertyOptional({ example: [-80.2, 20.1, 40.5], nullable: true, description: 'LPS mm' })
  centroidMm: number[] | null;
  @ApiProperty({ example: false, description: 'The organ reaches the scan border (it may be cut off)' })
  touchesBorder: boolean;
}

export class SegmentationDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ enum: JobStatus, enumName: 'JobStatus' })
  status: JobStatus;
  @ApiProperty({ example: 0.62 })
  progress: number;
  @ApiPropertyOptional({ example: 'stage 2: tile 12/40', nullable: true, description: 'The current stage in words' })
  stage: string | null;
  @ApiProperty({ enum: JobStage, enumName: 'JobStage', example: JobStage.Stage2, description: 'The current stage as a code (stable, unlike `stage`)' })
  stageCode: JobStage;
  @ApiProperty({ enum: Organ, enumName: 'Organ', isArray: true })
  organs: Organ[];
  @ApiProperty({ example: false })
  fast: boolean;
  @ApiProperty({ example: 'abdomen.nii.gz', description: 'The uploaded file name (as data only)' })
  fileName: string;
  @ApiPropertyOptional({ type: GeometryDto, nullable: true, description: 'Input grid; the label map has exactly this grid' })
  geometry: GeometryDto | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { $ref: '#/components/schemas/OrganResultDto' }, nullable: true, description: 'Per organ statistics, once succeeded' })
  results: Record<string, OrganResultDto> | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'number', nullable: true }, nullable: true, example: { liver: 0.93, spleen: 0.88, pancreas: 0.61 }, description: 'Dice against the uploaded reference' })
  dice: Record<string, number | null> | null;
  @ApiPropertyOptional({ nullable: true, example: { stage1: 480, candidateRegion: 120, stage2: 9100, postprocess: 500, outputs: 300 }, description: 'Milliseconds per pipeline step' })
  timingsMs: Record<string, number> | null;
  @ApiPropertyOptional({ nullable: true, example: { tiles: 12, tilesTotal: 84, voxelFraction: 0.11 }, description: 'Stage-2 tiles run and the fraction of fine-grid voxels they covered' })
  stage2: { tiles: number; tilesTotal: number; voxelFraction: number } | null;
  @ApiPropertyOptional({ nullable: true, example: { coarse: 'ct-organs-coarse@1', fine: 'ct-organs-fine@1' } })
  models: { coarse: string; fine: string | null } | null;
  @ApiPropertyOptional({ nullable: true, example: { message: 'The reference is on another grid than the image: size 10 × 10 × 10 differs from 122 × 101 × 30' } })
  error: unknown;
  @ApiProperty({ example: { self: '/segmentations/…', job: '/jobs/…', labels: '/segmentations/…/labels', preview: '/segmentations/…/preview' } })
  links: Record<string, string>;
}
