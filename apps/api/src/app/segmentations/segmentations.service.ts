import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { JobStatus } from '@lumen/database';
import { type MultipartBody, type Principal, ProblemException, type UploadedFile, canSee, receiveMultipart } from '@lumen/http';
import { ModelRegistry } from '@lumen/inference';
import { JobKind, JobsService, type TypedJob } from '@lumen/jobs';
import { ORGAN_LABELS, Organ, type SegmentationOutput, type SegmentationParams, SegmentationStorage, servedCascade } from '@lumen/segmentation';
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
import type { SegmentationDto } from './segmentations.dto.js';

const FIELDS = new Set(['referenceLabels', 'organs', 'fast', 'seriesUid']);
type SegmentationJob = TypedJob<JobKind.Segmentation>;

function invalid(detail: string, field?: string): ProblemException {
  return new ProblemException(HttpStatus.BAD_REQUEST, 'invalid-request', detail, field ? { errors: [{ field, message: detail }] } : {});
}

function asProblem(error: VolumeError): ProblemException {
  return new ProblemException(error.status, error.problem, error.message, error.details);
}

function parseOrgans(value: string | undefined): Organ[] {
  if (value === undefined || value.trim() === '') return Object.values(Organ);
  let list: unknown;
  try {
    list = value.trim().startsWith('[') ? JSON.parse(value) : value.split(',').map((s) => s.trim());
  } catch {
    throw invalid('organs must be a JSON array or a comma-separated list', 'organs');
  }
  if (!Array.isArray(list) || list.length === 0) throw invalid('organs must list at least one organ', 'organs');
  const unknown = list.filter((o) => !Object.values(Organ).includes(o as Organ));
  if (unknown.length) throw invalid(`unknown organ(s) ${unknown.join(', ')}; choose from ${Object.values(Organ).join(', ')}`, 'organs');
  return [...new Set(list as Organ[])];
}

function parseReferenceLabels(value: string | undefined): Partial<Record<Organ, number>> {
  if (value === undefined || value.trim() === '') return ORGAN_LABELS;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalid('referenceLabels must be a JSON object such as {"liver":5,"spleen":1,"pancreas":7}', 'referenceLabels');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('referenceLabels must be a JSON object', 'referenceLabels');
  const labels: Partial<Record<Organ, number>> = {};
  for (const [organ, id] of Object.entries(parsed)) {
    if (!Object.values(Organ).includes(organ as Organ)) throw invalid(`referenceLabels: unknown organ "${organ}"`, 'referenceLabels');
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) > 65535) throw invalid(`referenceLabels.${organ} must be an integer label id`, 'referenceLabels');
    labels[organ as Organ] = id as number;
  }
  return labels;
}

function parseBoolean(value: string | undefined, field: string): boolean {
  if (value === undefined || value === '') return false;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalid(`${field} must be true or false`, field);
}

@Injectable()
export class SegmentationsService {
  constructor(
    @Inject(CONFIG) private readonly config: LumenConfig,
    private readonly jobs: JobsService,
    private readonly registry: ModelRegistry,
    private readonly storage: SegmentationStorage,
  ) {}

  /**
   * Streams the upload to disk, checks the header (and the DICOM series) before anything is
   * queued, then queues the job. Anything that fails leaves no file behind.
   */
  async create(principal: Principal, request: FastifyRequest): Promise<SegmentationJob> {
    try {
      servedCascade(this.registry);
    } catch (error) {
      throw new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, 'models-unavailable', (error as Error).message);
    }
    const upload: MultipartBody = await receiveMultipart(request, {
      directory: path.join(this.config.dataDir, 'tmp', 'uploads'),
      maxFileBytes: this.config.uploadMaxBytes,
      maxFiles: 2,
      fileFields: ['image', 'reference'],
    });
    const jobId = randomUUID();
    try {
      const unknown = Object.keys(upload.fields).filter((f) => !FIELDS.has(f));
      if (unknown.length) throw invalid(`unknown field(s) ${unknown.join(', ')}; accepted: image, reference, ${[...FIELDS].join(', ')}`);
      const image = upload.files.find((f) => f.field === 'image');
      const referenceFile = upload.files.find((f) => f.field === 'reference');
      if (!image) throw invalid('the "image" file is required', 'image');
      if (upload.files.filter((f) => f.field === 'image').length > 1 || upload.files.filter((f) => f.field === 'reference').length > 1) {
        throw invalid('send one "image" and at most one "reference"');
      }
      const organs = parseOrgans(upload.fields.organs);
      const fast = parseBoolean(upload.fields.fast, 'fast');
      const referenceLabels = parseReferenceLabels(upload.fields.referenceLabels);
      if (upload.fields.referenceLabels && !referenceFile) throw invalid('referenceLabels was given without a reference file', 'referenceLabels');
      for (const f of upload.files) if (f.size === 0) throw new ProblemException(HttpStatus.UNPROCESSABLE_ENTITY, 'empty-file', `The "${f.field}" file is empty`);

      await this.storage.create(jobId);
      const input = await this.storeInput(image, jobId, upload.fields.seriesUid);
      let reference: SegmentationParams['reference'];
      if (referenceFile) {
        const format = formatFromFileName(referenceFile.clientName);
        if (format === VolumeFormat.DicomZip) throw new VolumeError(415, 'unsupported-reference-format', 'The reference must be a label map file (.nii, .nii.gz, .nrrd, .mha), not a zip');
        const file = this.storage.upload(jobId, 'reference', format);
        fs.renameSync(referenceFile.path, file.path);
        await this.checkFile(file.path, format);
        const geometry = await readVolumeHeader(file.path, this.config.segmentationMaxVoxels);
        if (input.format !== VolumeFormat.DicomZip) assertSameGrid(input.geometry, geometry);
        reference = { format, file: file.name, labels: referenceLabels };
      }
      const params: SegmentationParams = { input, reference, organs, fast };
      return await this.jobs.enqueue(JobKind.Segmentation, principal.name, params, jobId);
    } catch (error) {
      await this.storage.remove(jobId);
      if (error instanceof VolumeError) throw asProblem(error);
      throw error;
    } finally {
      await upload.cleanup();
    }
  }

  private async storeInput(image: UploadedFile, jobId: string, seriesUid: string | undefined): Promise<SegmentationParams['input']> {
    const format = formatFromFileName(image.clientName);
    if (format !== VolumeFormat.DicomZip) {
      if (seriesUid) throw invalid('seriesUid applies only to a DICOM zip', 'seriesUid');
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
  async outputFile(principal: Principal, id: string, name: SegmentationOutput): Promise<string> {
    const job = await this.find(principal, id);
    if (job.status !== JobStatus.succeeded) {
      throw new ProblemException(HttpStatus.CONFLICT, 'segmentation-not-finished', `Segmentation ${id} is ${job.status}; outputs exist once it has succeeded`);
    }
    const file = this.storage.output(id, name);
    if (!fs.existsSync(file)) throw new ProblemException(HttpStatus.NOT_FOUND, 'output-missing', `The ${name} of segmentation ${id} is gone`);
    return file;
  }

  toDto(job: SegmentationJob): SegmentationDto {
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
      geometry: result?.input.geometry ?? params.input.geometry ?? null,
      results: result?.organs ?? null,
      dice: result?.dice ?? null,
      timingsMs: result?.timingsMs ?? null,
      stage2: result?.stage2 ?? null,
      models: result?.models ?? null,
      error: job.error,
      links: {
        self: `/segmentations/${job.id}`,
        job: `/jobs/${job.id}`,
        labels: `/segmentations/${job.id}/labels`,
        preview: `/segmentations/${job.id}/preview`,
      },
    };
  }
}
