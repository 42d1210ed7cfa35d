import fs from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { ModelRegistry, Tensor } from '@lumen/inference';
import { type JobContext, JobHandler, JobKind, type JobRunner, PermanentJobError } from '@lumen/jobs';
import { type Geometry, type Volume, VolumeError, VolumeFormat, dice, gridDifferences, labelStatistics, readDicomSeries, readVolume, writeLabelMap } from '@lumen/volumes';
import { type CascadeConfig, Organ, cascadeConfigFromCards } from './cascade-config.js';
import { runCascade } from './cascade.js';
import { renderPreview } from './preview.js';
import { SegmentationStorage } from './segmentation-storage.js';
import type { OrganResult, SegmentationParams, SegmentationResult } from './segmentation-params.js';

export const COARSE_TASK = 'segmentation-coarse';
export const FINE_TASK = 'segmentation-fine';

/** The served cascade (the first model of each stage task), or an error saying what is missing. */
export function servedCascade(registry: ModelRegistry): CascadeConfig {
  const coarse = registry.byTask(COARSE_TASK).find((m) => m.ready);
  const fine = registry.byTask(FINE_TASK).find((m) => m.ready);
  if (!coarse || !fine) throw new Error(`segmentation models are not loaded (need a ready "${COARSE_TASK}" and "${FINE_TASK}" model)`);
  return cascadeConfigFromCards(coarse.card, fine.card);
}

@Injectable()
@JobHandler({ kind: JobKind.Segmentation, concurrency: 1 })
export class SegmentationJobHandler implements JobRunner<SegmentationParams, SegmentationResult> {
  private readonly logger = new Logger('Segmentation');

  constructor(
    @Inject(CONFIG) private readonly config: LumenConfig,
    private readonly registry: ModelRegistry,
    private readonly storage: SegmentationStorage,
  ) {}

  private async readInput(jobId: string, input: SegmentationParams['input']): Promise<Volume> {
    const dir = this.storage.jobDir(jobId);
    if (input.format === VolumeFormat.DicomZip) return readDicomSeries((input.dicomFiles ?? []).map((f) => path.join(dir, f)), this.config.segmentationMaxVoxels);
    return readVolume(path.join(dir, input.file!), this.config.segmentationMaxVoxels);
  }

  async run({ jobId, params, progress }: JobContext<SegmentationParams>): Promise<SegmentationResult> {
    const cascade = servedCascade(this.registry);
    await progress(0.02, 'reading volume');
    let volume: Volume;
    let reference: Volume | null = null;
    try {
      volume = await this.readInput(jobId, params.input);
      if (params.reference) {
        reference = await readVolume(path.join(this.storage.jobDir(jobId), params.reference.file), this.config.segmentationMaxVoxels);
        const differences = gridDifferences(volume, reference);
        if (differences.length) throw new VolumeError(422, 'reference-grid-mismatch', `The reference is on another grid than the image: ${differences.join('; ')}`);
      }
    } catch (error) {
      if (error instanceof VolumeError) throw new PermanentJobError(error.message, { problem: error.problem, ...error.details });
      throw error;
    }

    const organIds = params.organs.map((o) => cascade.labels.get(o)!).filter((id) => id !== undefined);
    const infer = async (model: string, input: Float32Array, shape: [number, number, number]) => {
      const outputs = await this.registry.run(model, { image: new Tensor('float32', input, [1, 1, ...shape]) });
      return outputs.logits.data as Float32Array;
    };
    const result = await runCascade(volume, cascade, infer, { fast: params.fast, organs: organIds }, (fraction, _step, text) => progress(fraction, text));

    await progress(0.9, 'statistics');
    const geometry: Geometry = { size: volume.size, spacing: volume.spacing, origin: volume.origin, direction: volume.direction };
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

    await progress(0.95, 'writing outputs');
    const started = performance.now();
    await writeLabelMap(this.storage.file(jobId, 'labels.nii.gz'), result.labels, geometry);
    const organList = params.organs.map((name) => ({ id: cascade.labels.get(name)!, name }));
    const png = await renderPreview(result.canonical.image, result.canonical.labels, result.canonical.shape, result.canonical.spacing, organList);
    await fs.writeFile(this.storage.file(jobId, 'preview.png'), png);
    result.timingsMs.outputs = Math.round(performance.now() - started);
    this.logger.log(`job ${jobId}: segmented ${volume.size.join('×')} in ${Object.values(result.timingsMs).reduce((a, b) => a + b, 0)} ms`);

    return {
      input: { geometry, format: params.input.format, componentType: volume.componentType, voxels: volume.size[0] * volume.size[1] * volume.size[2] },
      organs,
      dice: diceScores,
      models: { coarse: `${cascade.coarse.model}@${cascade.coarse.version}`, fine: params.fast ? null : `${cascade.fine.model}@${cascade.fine.version}` },
      fast: params.fast,
      timingsMs: result.timingsMs,
      stage2: result.stage2,
    };
  }
}
