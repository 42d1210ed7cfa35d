import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { JobStatus } from '@lumen/database';
import { type Principal, type UploadedFile, canSee, invalidField } from '@lumen/http';
import { ModelRegistry } from '@lumen/inference';
import { JobKind, JobsService } from '@lumen/jobs';
import { SegmentationError, type SegmentationJob, type SegmentationOutput, type SegmentationParams, SegmentationStorage, servedCascade } from '@lumen/segmentation';
import {
  VolumeError,
  VolumeFormat,
  assertSameGrid,
  checkDeclaredSize,
  checkSliceSpacing,
  chooseSeries,
  extractDicomZip,
  formatFromFileName,
  geometryOf,
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
  async create(principal: Principal, form: SegmentationUploadDto): Promise<SegmentationJob> {
    servedCascade(this.registry);
    const jobId = randomUUID();
    try {
      const { image, reference: referenceFile } = form;
      for (const f of [image, referenceFile]) if (f?.size === 0) throw new VolumeError('volume.empty-file', `The "${f.field}" file is empty`);

      await this.storage.create(jobId);
      const input = await this.storeInput(image, jobId, form.seriesUid);
      let reference: SegmentationParams['reference'];
      if (referenceFile) {
        const format = formatFromFileName(referenceFile.clientName);
        if (format === VolumeFormat.DicomZip) throw new VolumeError('volume.unsupported-reference-format', 'The reference must be a label map file (.nii, .nii.gz, .nrrd, .mha), not a zip');
        const file = this.storage.upload(jobId, 'reference', format);
        fs.renameSync(referenceFile.path, file.path);
        await this.checkFile(file.path, format);
        const geometry = await readVolumeHeader(file.path, this.config.segmentationMaxVoxels);
        if (input.format !== VolumeFormat.DicomZip) assertSameGrid(input.geometry, geometry);
        reference = { format, file: file.name, labels: form.labels() };
      }
      const params: SegmentationParams = { input, reference, organs: form.organList(), fast: form.fast ?? false };
      return await this.jobs.enqueue(JobKind.Segmentation, principal.name, params, jobId);
    } catch (error) {
      await this.storage.remove(jobId);
      throw error;
    }
  }

  private async storeInput(image: UploadedFile, jobId: string, seriesUid: string | undefined): Promise<SegmentationParams['input']> {
    const format = formatFromFileName(image.clientName);
    if (format !== VolumeFormat.DicomZip) {
      if (seriesUid) throw invalidField('seriesUid', 'seriesUid applies only to a DICOM zip');
      const file = this.storage.upload(jobId, 'input', format);
      fs.renameSync(image.path, file.path);
      await this.checkFile(file.path, format);
      const geometry = await readVolumeHeader(file.path, this.config.segmentationMaxVoxels);
      return { format, file: file.name, clientFileName: image.clientName, geometry };
    }
    const files = extractDicomZip(image.path, this.storage.dicomDir(jobId), { maxEntries: 10_000, maxUncompressedBytes: 4 * this.config.uploadMaxBytes });
    const series = chooseSeries(await groupDicomSeries(files), seriesUid);
    checkSliceSpacing(series.tags);
    const chosen = new Set(series.files);
    await Promise.all(files.filter((f) => !chosen.has(f)).map((f) => fs.promises.rm(f, { force: true })));
    const volume = await readDicomSeries(series.files, this.config.segmentationMaxVoxels);
    return {
      format,
      dicomFiles: series.files.map((f) => this.storage.relative(jobId, f)),
      seriesUid: series.seriesUid,
      clientFileName: image.clientName,
      geometry: geometryOf(volume),
    };
  }

  /** Cheap checks itk-wasm cannot make clearly: declared size (before any read), gzip integrity. */
  private async checkFile(file: string, format: VolumeFormat): Promise<void> {
    await checkDeclaredSize(file, format, this.config.segmentationMaxVoxels);
    if (format === VolumeFormat.NiftiGz) await verifyGzip(file);
  }

  async find(principal: Principal, id: string): Promise<SegmentationJob> {
    const job = await this.jobs.findOf(JobKind.Segmentation, id);
    if (!job || !canSee(principal, job.owner)) {
      throw new SegmentationError('segmentation.not-found', `No segmentation ${id}`);
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
  async outputFile(principal: Principal, id: string, name: SegmentationOutput): Promise<string> {
    const job = await this.find(principal, id);
    if (job.status !== JobStatus.succeeded) {
      throw new SegmentationError('segmentation.not-finished', `Segmentation ${id} is ${job.status}; outputs exist once it has succeeded`);
    }
    const file = this.storage.output(id, name);
    if (!fs.existsSync(file)) throw new SegmentationError('segmentation.output-missing', `The ${name} of segmentation ${id} is gone`);
    return file;
  }
}
