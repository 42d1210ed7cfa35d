import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { ModelRegistry, modelFile } from '@lumen/inference';
import { type JobContext, JobHandler, JobKind, type JobRunner, JobStage, PermanentJobError, type WorkerCapability } from '@lumen/jobs';
import { type Geometry, type Volume, VolumeError, VolumeFormat, assertSameGrid, dice, geometryOf, labelStatistics, readDicomSeries, readVolume, writeLabelMap, writeVolume } from '@lumen/volumes';
import { type CascadeConfig, Organ, cascadeConfigFromCards } from './cascade-config.js';
import { CascadeStep } from './cascade.js';
import { CascadeThread } from './cascade-thread.js';
import { DicomSegUnavailable, buildDicomSeg, readSourceHeaders } from './dicom-seg.js';
import { renderPreview } from './preview.js';
import { SegmentationError } from './segmentation-error.js';
import { SegmentationStorage } from './segmentation-storage.js';
import { type DicomSegResult, type OrganResult, type SegmentationParams, type SegmentationResult, isDicomInput } from './segmentation-params.js';

export const COARSE_TASK = 'segmentation-coarse';
export const FINE_TASK = 'segmentation-fine';

/** The served cascade (the first model of each stage task), or `segmentation.models-unavailable` saying what is missing or wrong. */
export function servedCascade(registry: ModelRegistry): CascadeConfig {
  const coarse = registry.byTask(COARSE_TASK).find((m) => m.ready);
  const fine = registry.byTask(FINE_TASK).find((m) => m.ready);
  if (!coarse || !fine) throw new SegmentationError('segmentation.models-unavailable', `segmentation models are not loaded (need a ready "${COARSE_TASK}" and "${FINE_TASK}" model)`);
  try {
    return cascadeConfigFromCards(coarse.card, fine.card);
  } catch (error) {
    throw new SegmentationError('segmentation.models-unavailable', (error as Error).message);
  }
}

/** The job stage each step of the cascade reports as. */
const CASCADE_STAGES: Record<CascadeStep, JobStage> = {
  [CascadeStep.Stage1]: JobStage.Stage1,
  [CascadeStep.CandidateRegion]: JobStage.CandidateRegion,
  [CascadeStep.Stage2]: JobStage.Stage2,
  [CascadeStep.PostProcessing]: JobStage.PostProcessing,
};

@Injectable()
@JobHandler({ kind: JobKind.Segmentation, concurrency: 1, prefersCuda: true })
export class SegmentationJobHandler implements JobRunner<JobKind.Segmentation>, OnApplicationShutdown {
  private readonly logger = new Logger('Segmentation');
  /** Runs the cascade off this thread, on sessions it keeps between jobs. */
  private readonly cascadeThread = new CascadeThread();

  constructor(
    @Inject(CONFIG) private readonly config: LumenConfig,
    private readonly registry: ModelRegistry,
    private readonly storage: SegmentationStorage,
  ) {}

  /** CUDA when both cascade models run there; the models this worker serves for segmentation. */
  capability(): WorkerCapability {
    const models = [...this.registry.byTask(COARSE_TASK), ...this.registry.byTask(FINE_TASK)].filter((m) => m.ready);
    const cuda = models.length > 0 && models.every((m) => m.provider === 'cuda');
    return { device: cuda ? 'cuda' : 'cpu', models: models.map((m) => `${m.name}@${m.version}`) };
  }

  /** After the job queue's graceful stop (onModuleDestroy), which lets running jobs finish on the thread. */
  async onApplicationShutdown(): Promise<void> {
    await this.cascadeThread.close();
  }

  private async readInput(jobId: string, input: SegmentationParams['input']): Promise<Volume> {
    const files = await this.storage.inputFiles(jobId, input);
    if (input.format === VolumeFormat.DicomZip) {
      const volume = await readDicomSeries(files, this.config.segmentationMaxVoxels);
      // The API computed the grid from the files' tags; a reader that skipped a file must not pass unnoticed.
      if (volume.size.some((n, axis) => n !== input.geometry.size[axis])) {
        throw new VolumeError('volume.data-size-mismatch', `The DICOM series read as ${volume.size.join('×')} voxels; its ${files.length} files' tags declare ${input.geometry.size.join('×')}`);
      }
      return volume;
    }
    return readVolume(files[0], this.config.segmentationMaxVoxels);
  }

  async run({ jobId, params, progress }: JobContext<JobKind.Segmentation>): Promise<SegmentationResult> {
    const cascade = servedCascade(this.registry);
    await progress(0.02, JobStage.Reading, 'reading volume');
    let volume: Volume;
    let reference: Volume | null = null;
    try {
      volume = await this.readInput(jobId, params.input);
      if (params.reference) {
        reference = await readVolume(await this.storage.referenceFile(jobId, params.reference), this.config.segmentationMaxVoxels);
        assertSameGrid(volume, reference);
      }
    } catch (error) {
      if (error instanceof VolumeError) throw new PermanentJobError(error.detail, { code: error.code, ...error.details });
      throw error;
    }

    const organIds = params.organs.map((o) => cascade.labels.get(o)!).filter((id) => id !== undefined);
    // On the cascade thread: ONNX Runtime and the kernels would otherwise stall this thread's job heartbeats for seconds.
    const sessions = Object.fromEntries(
      [cascade.coarse.model, cascade.fine.model].map((name) => {
        const model = this.registry.get(name);
        return [name, { file: modelFile(model.directory), provider: model.provider ?? 'cpu' }];
      }),
    );
    const result = await this.cascadeThread.run(volume, cascade, { models: sessions, threads: this.config.inferenceThreads }, { fast: params.fast, organs: organIds }, (fraction, step, text) =>
      progress(fraction, CASCADE_STAGES[step], text),
    );

    await progress(0.9, JobStage.Statistics, 'statistics');
    const geometry = geometryOf(volume);
    const stats = labelStatistics(result.labels, volume.data, geometry, organIds);
    const organs: Partial<Record<Organ, OrganResult>> = {};
    for (const organ of params.organs) {
      const label = cascade.labels.get(organ)!;
      const s = stats.get(label);
      organs[organ] = s
        ? { label, ...s }
        : { label, voxels: 0, volumeMl: 0, meanHu: null, stdHu: null, boundingBoxMm: null, centroidMm: null, touchesBorder: false };
    }
    let diceScores: SegmentationResult['dice'] = null;
    if (reference && params.reference) {
      diceScores = {};
      for (const organ of params.organs) {
        const referenceLabel = params.reference.labels[organ];
        diceScores[organ] = referenceLabel === undefined ? null : dice(result.labels, cascade.labels.get(organ)!, reference.data, referenceLabel);
      }
    }

    await progress(0.95, JobStage.Writing, 'writing outputs');
    const started = performance.now();
    await this.storage.writeOutput(jobId, 'labels.nii.gz', (file) => writeLabelMap(file, result.labels, geometry));
    const organList = params.organs.map((name) => ({ id: cascade.labels.get(name)!, name }));
    const png = await renderPreview(result.canonical.image, result.canonical.labels, result.canonical.shape, result.canonical.spacing, organList);
    await this.storage.putOutput(jobId, 'preview.png', png);
    const models = `${cascade.coarse.model}@${cascade.coarse.version}${params.fast ? '' : ` + ${cascade.fine.model}@${cascade.fine.version}`}`;
    let dicomSeg: DicomSegResult | null = null;
    if (isDicomInput(params.input)) {
      // The series as read, for viewers that do not read DICOM (the web page's NiiVue).
      await this.storage.writeOutput(jobId, 'image.nii.gz', (file) => writeVolume(file, volume));
      dicomSeg = await this.writeDicomSeg(jobId, params, result.labels, geometry, models, cascade);
    }
    result.timingsMs.outputs = Math.round(performance.now() - started);
    this.logger.log(`job ${jobId}: segmented ${volume.size.join('×')} in ${Object.values(result.timingsMs).reduce((a, b) => a + b, 0)} ms`);

    return {
      input: {
        geometry,
        format: params.input.format,
        componentType: volume.componentType,
        voxels: volume.size[0] * volume.size[1] * volume.size[2],
        ...(params.input.dicom ? { dicom: params.input.dicom } : {}),
      },
      organs,
      dice: diceScores,
      models: { coarse: `${cascade.coarse.model}@${cascade.coarse.version}`, fine: params.fast ? null : `${cascade.fine.model}@${cascade.fine.version}` },
      fast: params.fast,
      timingsMs: result.timingsMs,
      stage2: result.stage2,
      dicomSeg,
    };
  }

  /**
   * The DICOM SEG of a DICOM input (`dicom-seg.dcm`), from the source files' headers and the label
   * map; when the sources cannot carry one (no organ found, UIDs blanked by an anonymiser), the
   * reason, which GET /segmentations/{id}/dicom-seg answers with 409.
   */
  private async writeDicomSeg(jobId: string, params: SegmentationParams, labels: Uint8Array, geometry: Geometry, models: string, cascade: CascadeConfig): Promise<DicomSegResult> {
    const files = await this.storage.inputFiles(jobId, params.input);
    try {
      const headers = await readSourceHeaders(files);
      const segments = params.organs.map((organ) => ({ organ, label: cascade.labels.get(organ)! }));
      const { bytes, summary } = buildDicomSeg(headers, labels, geometry, segments, { algorithmName: `Lumen cascade (${models})`, softwareVersion: models });
      await this.storage.putOutput(jobId, 'dicom-seg.dcm', bytes);
      return { available: true, ...summary, bytes: bytes.length };
    } catch (error) {
      // The label map is the primary output: a SEG that cannot be made is reported, not fatal.
      if (error instanceof DicomSegUnavailable) {
        this.logger.warn(`job ${jobId}: no DICOM SEG: ${error.message}`);
        return { available: false, problem: error.problem, detail: error.message };
      }
      this.logger.error(`job ${jobId}: writing the DICOM SEG failed: ${(error as Error).stack ?? error}`);
      return { available: false, problem: 'dicom-seg-failed', detail: `Writing the DICOM SEG failed: ${(error as Error).message}` };
    }
  }
}
