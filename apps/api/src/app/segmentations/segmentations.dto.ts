import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMinSize, IsArray, IsBoolean, IsIn, IsObject, IsOptional, IsString, ValidateBy, type ValidationArguments } from 'class-validator';
import { JobStatus } from '@lumen/database';
import { type CrossCheckedForm, type FieldError, FormFile, JsonFormField, type UploadedFile } from '@lumen/http';
import { JobStage } from '@lumen/jobs';
import { type DicomSegResult, ORGAN_LABELS, Organ, type SegmentationJob, isDicomInput } from '@lumen/segmentation';
import { DICOM_MAX_FILES, type DicomSeriesReport, formatOfFileName } from '@lumen/volumes';

const ORGANS = Object.values(Organ) as string[];

/** "liver,pancreas" or '["liver","pancreas"]' → a list; anything else is left for the rules below to refuse. */
function organList({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  if (value.trim() === '') return undefined;
  if (!value.trim().startsWith('[')) return value.split(',').map((s) => s.trim());
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function flag({ value }: { value: unknown }): unknown {
  return ({ '': undefined, true: true, '1': true, false: false, '0': false } as Record<string, boolean | undefined>)[String(value)] ?? value;
}

/** Organ names and label ids of a reference label map; the reference file must come with them. */
function IsReferenceLabels() {
  return ValidateBy({
    name: 'isReferenceLabels',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        (args?.object as SegmentationUploadDto).reference !== undefined &&
        Object.entries(value as object).every(([organ, id]) => ORGANS.includes(organ) && Number.isInteger(id) && (id as number) >= 0 && (id as number) <= 65535),
      defaultMessage: (args?: ValidationArguments) =>
        (args?.object as SegmentationUploadDto).reference === undefined
          ? 'referenceLabels was given without a reference file'
          : `referenceLabels must map organs (${ORGANS.join(', ')}) to integer label ids 0..65535`,
    },
  });
}

/** The multipart form of POST /segmentations. */
export class SegmentationUploadDto implements CrossCheckedForm {
  @FormFile({
    description: `The CT: one .nii, .nii.gz, .nrrd or .mha file; a .zip of DICOM files; or the DICOM files themselves, one part each (a folder dropped on the page; any names, up to ${DICOM_MAX_FILES})`,
    required: true,
    maxCount: DICOM_MAX_FILES,
  })
  image: UploadedFile[];

  @FormFile({ description: 'A label map on the same grid (.nii, .nii.gz, .nrrd, .mha): Dice per organ is reported' })
  reference?: UploadedFile;

  @ApiPropertyOptional({ type: 'string', description: 'JSON object organ → label id in the reference (default {"liver":1,"spleen":2,"pancreas":3})', example: '{"liver":5,"spleen":1,"pancreas":7}' })
  @JsonFormField()
  @IsOptional()
  @IsObject({ message: 'referenceLabels must be a JSON object such as {"liver":5,"spleen":1,"pancreas":7}' })
  @IsReferenceLabels()
  referenceLabels?: Partial<Record<Organ, number>>;

  @ApiPropertyOptional({ type: 'string', description: 'Organs to segment: JSON array or comma-separated (default all)', example: 'liver,pancreas' })
  @Transform(organList)
  @IsOptional()
  @IsArray({ message: 'organs must be a JSON array or a comma-separated list' })
  @ArrayMinSize(1, { message: 'organs must list at least one organ' })
  @IsIn(ORGANS, { each: true, message: ({ value }) => `unknown organ(s) ${[value].flat().filter((o) => !ORGANS.includes(o as string)).join(', ')}; choose from ${ORGANS.join(', ')}` })
  organs?: Organ[];

  @ApiPropertyOptional({ type: 'string', description: 'Stage 1 only (coarse, fast)', example: 'false' })
  @Transform(flag)
  @IsOptional()
  @IsBoolean({ message: 'fast must be true or false' })
  fast?: boolean;

  @ApiPropertyOptional({ description: 'For DICOM holding several series: the SeriesInstanceUID to segment (or the derived-… id listed for series without one)' })
  @IsOptional()
  @IsString()
  seriesUid?: string;

  /** Several image parts are DICOM files: a volume file or a zip comes alone. */
  crossCheck(): FieldError[] {
    const named = this.image.filter((f) => formatOfFileName(f.clientName) !== null);
    if (this.image.length > 1 && named.length) {
      return [{ field: 'image', message: `send one image file (.nii, .nii.gz, .nrrd, .mha or .zip) or DICOM files; got ${this.image.length} image files including "${named[0].clientName}"` }];
    }
    return [];
  }

  /** The organs asked for, each once (all when not given). */
  organList(): Organ[] {
    return this.organs ? [...new Set(this.organs)] : (Object.values(Organ) as Organ[]);
  }

  /** organ → label id in the reference (the default numbering when not given). */
  labels(): Partial<Record<Organ, number>> {
    return this.referenceLabels ?? ORGAN_LABELS;
  }
}

export class GeometryDto {
  @ApiProperty({ type: 'array', items: { type: 'integer' }, example: [122, 101, 30], description: 'Voxels along the stored index axes i, j, k' })
  size: number[];
  @ApiProperty({ type: [Number], example: [3, 3, 3], description: 'mm per voxel along i, j, k' })
  spacing: number[];
  @ApiProperty({ type: [Number], example: [177.96, -11.32, 94.3], description: 'Physical position (LPS mm) of voxel (0,0,0)' })
  origin: number[];
  @ApiProperty({ type: [Number], example: [-1, 0, 0, 0, -1, 0, 0, 0, 1], description: 'Direction cosines, row-major; column c is index axis c in LPS' })
  direction: number[];
}

export class BoundingBoxDto {
  @ApiProperty({ type: [Number], example: [-120.5, -40.2, -60] })
  min: number[];
  @ApiProperty({ type: [Number], example: [10.1, 80.4, 90] })
  max: number[];
}

export class OrganResultDto {
  @ApiProperty({ type: 'integer', example: 1, description: 'Label id in the returned label map' })
  label: number;
  @ApiProperty({ type: 'integer', example: 38634 })
  voxels: number;
  @ApiProperty({ example: 1043.1 })
  volumeMl: number;
  @ApiProperty({ type: 'number', example: 95.2, nullable: true, description: 'Null when the organ was not found' })
  meanHu: number | null;
  @ApiProperty({ type: 'number', example: 21.7, nullable: true, description: 'Null when the organ was not found' })
  stdHu: number | null;
  @ApiProperty({ type: BoundingBoxDto, nullable: true, description: 'Physical LPS mm box of the organ voxel centres' })
  boundingBoxMm: BoundingBoxDto | null;
  @ApiProperty({ type: [Number], example: [-80.2, 20.1, 40.5], nullable: true, description: 'LPS mm' })
  centroidMm: number[] | null;
  @ApiProperty({ example: false, description: 'The organ reaches the scan border (it may be cut off)' })
  touchesBorder: boolean;
}

export class Stage2Dto {
  @ApiProperty({ type: 'integer', example: 12, description: 'Stage-2 tiles run' })
  tiles: number;
  @ApiProperty({ type: 'integer', example: 84, description: 'Tiles covering the whole fine grid' })
  tilesTotal: number;
  @ApiProperty({ example: 0.11, description: 'Fraction of fine-grid voxels the run tiles covered' })
  voxelFraction: number;
}

export class SegmentationModelsDto {
  @ApiProperty({ example: 'ct-organs-coarse@2', description: 'Stage-1 model as name@version' })
  coarse: string;
  @ApiProperty({ type: 'string', nullable: true, example: 'ct-organs-fine@2', description: 'Stage-2 model as name@version; null for fast (stage 1 only) runs' })
  fine: string | null;
}

@ApiExtraModels(OrganResultDto)
export class SegmentationDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ enum: JobStatus, enumName: 'JobStatus', description: 'Status of the segmentation job' })
  status: JobStatus;
  @ApiProperty({ example: 0.62 })
  progress: number;
  @ApiProperty({ type: 'string', example: 'stage 2: tile 12/40', nullable: true, description: 'The current stage in words' })
  stage: string | null;
  @ApiProperty({ enum: JobStage, enumName: 'JobStage', example: JobStage.Stage2, description: 'The current stage as a code (stable, unlike `stage`)' })
  stageCode: JobStage;
  @ApiProperty({ enum: Organ, enumName: 'Organ', isArray: true })
  organs: Organ[];
  @ApiProperty({ example: false })
  fast: boolean;
  @ApiProperty({ example: 'abdomen.nii.gz', description: 'The uploaded file name (as data only); "N files" for DICOM files sent as parts' })
  fileName: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'DICOM inputs: the series read (SeriesInstanceUID or derived id), how it was grouped (`series-instance-uid`, or `derived` when the files carry no SeriesInstanceUID, with the key used), transfer syntax, slices, and the images dropped (localisers...) or ignored',
    example: { seriesUid: 'derived-3f2a9c0e1b7d4a55', grouping: 'derived', transferSyntax: { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian' }, slices: 120, dropped: [{ reason: 'localizer', seriesUid: 'derived-3f2a9c0e1b7d4a55', files: 2 }] },
  })
  dicom: DicomSeriesReport | null;
  @ApiProperty({ type: GeometryDto, nullable: true, description: 'Input grid; the label map has exactly this grid' })
  geometry: GeometryDto | null;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: getSchemaPath(OrganResultDto) }, nullable: true, description: 'Per organ statistics, once succeeded' })
  results: Record<string, OrganResultDto> | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number', nullable: true }, nullable: true, example: { liver: 0.93, spleen: 0.88, pancreas: 0.61 }, description: 'Dice against the uploaded reference' })
  dice: Record<string, number | null> | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, nullable: true, example: { stage1: 480, candidateRegion: 120, stage2: 9100, postprocess: 500, outputs: 300 }, description: 'Milliseconds per pipeline step' })
  timingsMs: Record<string, number> | null;
  @ApiProperty({ type: Stage2Dto, nullable: true, description: 'Stage-2 tiles run and the fraction of fine-grid voxels they covered; null for fast runs and until done' })
  stage2: { tiles: number; tilesTotal: number; voxelFraction: number } | null;
  @ApiProperty({ type: SegmentationModelsDto, nullable: true, description: 'The models that made the result, once succeeded' })
  models: { coarse: string; fine: string | null } | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, example: { message: 'The reference is on another grid than the image: size 10 × 10 × 10 differs from 122 × 101 × 30' } })
  error: unknown;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { available: true, segments: [{ number: 1, organ: 'liver', label: 1, frames: 41 }], frames: 41, sopInstanceUid: '2.25.…', seriesInstanceUid: '2.25.…', bytes: 1374208 },
    description: 'DICOM inputs, once succeeded: the DICOM SEG written (segments, frames, UIDs) or `{available: false, problem, detail}`; null otherwise',
  })
  dicomSeg: DicomSegResult | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { self: '/segmentations/…', job: '/jobs/…', labels: '/segmentations/…/labels', preview: '/segmentations/…/preview', image: '/segmentations/…/image', dicomSeg: '/segmentations/…/dicom-seg' },
    description: '`dicomSeg` only for DICOM inputs',
  })
  links: Record<string, string>;

  static from(job: SegmentationJob): SegmentationDto {
    const { params, result } = job;
    return {
      id: job.id,
      status: job.status,
      progress: job.progress,
      stage: job.stage,
      stageCode: job.stageCode,
      organs: params.organs,
      fast: params.fast,
      fileName: params.input.clientFileName,
      dicom: result?.input.dicom ?? params.input.dicom ?? null,
      geometry: result?.input.geometry ?? params.input.geometry ?? null,
      results: result?.organs ?? null,
      dice: result?.dice ?? null,
      timingsMs: result?.timingsMs ?? null,
      stage2: result?.stage2 ?? null,
      models: result?.models ?? null,
      dicomSeg: result?.dicomSeg ?? null,
      error: job.error,
      links: {
        self: `/segmentations/${job.id}`,
        job: `/jobs/${job.id}`,
        labels: `/segmentations/${job.id}/labels`,
        preview: `/segmentations/${job.id}/preview`,
        image: `/segmentations/${job.id}/image`,
        ...(isDicomInput(params.input) ? { dicomSeg: `/segmentations/${job.id}/dicom-seg` } : {}),
      },
    };
  }
}
