import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { type Job, JobStatus } from '@lumen/database';
import { type Principal, ProblemException, type UploadedFile, canSee, domainProblem, invalidField } from '@lumen/http';
import { ModelRegistry } from '@lumen/inference';
import { JobKind, JobsService } from '@lumen/jobs';
import { type SegmentationParams, SegmentationStorage, servedCascade } from '@lumen/segmentation';
import {
  VolumeError,
  VolumeFormat,
  checkDeclaredSize,
  checkSliceSpacing,
  chooseSeries,
  extensionOf,
  extractDicomZip,
  formatFromFileName,
  gridDifferences,
  groupDicomSeries,
  readDicomSeries,
  readVolumeHeader,
  verifyGzip,
} from '@lumen/volumes';
import type { SegmentationUploadDto } from './segmentations.dto.js';

@Injectable()
export class SegmentationsService {
  constructor(
    @Inject(CONFIG) private readonly config: LumenConfig,
    private readonly jobs: JobsService,
    private readonly registry: ModelRegistry,
    private readonly storage: SegmentationStorage,
  ) {}

  /**
   * Checks the uploaded header (and the DICOM series) before anything is queued, then queues the
   * job. Anything that fails leaves no file behind (the form's files are deleted after the request).
   */
  async create(principal: Principal, form: SegmentationUploadDto): Promise<Job> {
    try {
      servedCascade(this.registry);
    } catch (error) {
      throw new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, 'models-unavailable', (error as Error).message);
    }
    const jobId = randomUUID();
    const jobDir = this.storage.jobDir(jobId);
    try {
      const { image, reference: referenceFile } = form;
      for (const f of [image, referenceFile]) if (f?.size === 0) throw new ProblemException(HttpStatus.UNPROCESSABLE_ENTITY, 'empty-file', `The "${f.field}" file is empty`);

      fs.mkdirSync(jobDir, { recursive: true });
      const input = await this.storeInput(image, jobDir, form.seriesUid);
      let reference: SegmentationParams['reference'];
      if (referenceFile) {
        const format = formatFromFileName(referenceFile.clientName);
        if (format === VolumeFormat.DicomZip) throw new VolumeError(415, 'unsupported-reference-format', 'The reference must be a label map file (.nii, .nii.gz, .nrrd, .mha), not a zip');
        const file = `reference${extensionOf(format)}`;
        fs.renameSync(referenceFile.path, path.join(jobDir, file));
        await this.checkFile(path.join(jobDir, file), format);
        const geometry = await readVolumeHeader(path.join(jobDir, file), this.config.segmentationMaxVoxels);
        if (input.format !== VolumeFormat.DicomZip) {
          const differences = gridDifferences(input.geometry, geometry);
          if (differences.length) throw new VolumeError(422, 'reference-grid-mismatch', `The reference is on another grid than the image: ${differences.join('; ')}`);
        }
        reference = { format, file, labels: form.labels() };
      }
      const params: SegmentationParams = { input, reference, organs: form.organList(), fast: form.fast ?? false };
      return await this.jobs.enqueue(JobKind.Segmentation, principal.name, params as unknown as Record<string, unknown>, jobId);
    } catch (error) {
      await fs.promises.rm(jobDir, { recursive: true, force: true });
      if (error instanceof VolumeError) throw domainProblem(error);
      throw error;
    }
  }

  private async storeInput(image: UploadedFile, jobDir: string, seriesUid: string | undefined): Promise<SegmentationParams['input']> {
    const format = formatFromFileName(image.clientName);
    if (format !== VolumeFormat.DicomZip) {
      if (seriesUid) throw invalidField('seriesUid', 'seriesUid applies only to a DICOM zip');
      const file = `input${extensionOf(format)}`;
      fs.renameSync(image.path, path.join(jobDir, file));
      await this.checkFile(path.join(jobDir, file), format);
      const geometry = await readVolumeHeader(path.join(jobDir, file), this.config.segmentationMaxVoxels);
      return { format, file, clientFileName: image.clientName, geometry };
    }
    const dicomDir = path.join(jobDir, 'dicom');
    const files = extractDicomZip(image.path, dicomDir, { maxEntries: 10_000, maxUncompressedBytes: 4 * this.config.uploadMaxBytes });
    const series = chooseSeries(await groupDicomSeries(files), seriesUid);
    checkSliceSpacing(series.tags);
    const chosen = new Set(series.files);
    await Promise.all(files.filter((f) => !chosen.has(f)).map((f) => fs.promises.rm(f, { force: true })));
    const volume = await readDicomSeries(series.files, this.config.segmentationMaxVoxels);
    return {
      format,
      dicomFiles: series.files.map((f) => path.relative(jobDir, f)),
      seriesUid: series.seriesUid,
      clientFileName: image.clientName,
      geometry: { size: volume.size, spacing: volume.spacing, origin: volume.origin, direction: volume.direction },
    };
  }

  /** Cheap checks itk-wasm cannot make clearly: declared size (before any read), gzip integrity. */
  private async checkFile(file: string, format: VolumeFormat): Promise<void> {
    await checkDeclaredSize(file, format, this.config.segmentationMaxVoxels);
    if (format === VolumeFormat.NiftiGz) await verifyGzip(file);
  }

  async find(principal: Principal, id: string): Promise<Job> {
    const job = await this.jobs.find(id);
    if (!job || job.kind !== JobKind.Segmentation || !canSee(principal, job.owner)) {
      throw new ProblemException(HttpStatus.NOT_FOUND, 'segmentation-not-found', `No segmentation ${id}`);
    }
    return job;
  }

  /** Removes the job, its upload and its outputs. */
  async remove(principal: Principal, id: string): Promise<void> {
    const job = await this.find(principal, id);
    await this.jobs.remove(job);
    await this.storage.remove(id);
  }

  /** A finished job's output file, or 409 while it is not (yet) succeeded. */
  async outputFile(principal: Principal, id: string, name: 'labels.nii.gz' | 'preview.png'): Promise<string> {
    const job = await this.find(principal, id);
    if (job.status !== JobStatus.succeeded) {
      throw new ProblemException(HttpStatus.CONFLICT, 'segmentation-not-finished', `Segmentation ${id} is ${job.status}; outputs exist once it has succeeded`);
    }
    const file = this.storage.file(id, name);
    if (!fs.existsSync(file)) throw new ProblemException(HttpStatus.NOT_FOUND, 'output-missing', `The ${name} of segmentation ${id} is gone`);
    return file;
  }
}
