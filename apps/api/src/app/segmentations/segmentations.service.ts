import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { JobStatus } from '@lumen/database';
import { type Principal, type UploadedFile, canSee, invalidField } from '@lumen/http';
import { ModelRegistry } from '@lumen/inference';
import { JobKind, JobsService } from '@lumen/jobs';
import { SegmentationError, type SegmentationJob, type SegmentationOutput, type SegmentationParams, SegmentationStorage, isDicomInput, servedCascade } from '@lumen/segmentation';
import {
  DICOM_MAX_FILES,
  type DicomUploadFile,
  VolumeError,
  VolumeFormat,
  assertSameGrid,
  checkDeclaredSize,
  extensionOf,
  extractZip,
  formatFromFileName,
  formatOfFileName,
  intakeDicomFiles,
  looksLikeZip,
  readDicomHeader,
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
      const { image: images, reference: referenceFile } = form;
      for (const f of [...(images.length === 1 ? images : []), referenceFile]) if (f?.size === 0) throw new VolumeError('volume.empty-file', `The "${f.field}" file is empty`);

      const input = await this.storeInput(images, jobId, form.seriesUid);
      let reference: SegmentationParams['reference'];
      if (referenceFile) {
        const format = formatFromFileName(referenceFile.clientName);
        if (format === VolumeFormat.DicomZip) throw new VolumeError('volume.unsupported-reference-format', 'The reference must be a label map file (.nii, .nii.gz, .nrrd, .mha), not a zip');
        const name = this.storage.uploadName('reference', format);
        const file = await this.storage.storeUpload(jobId, referenceFile.path, name);
        await this.checkFile(file, format);
        const geometry = await readVolumeHeader(file, this.config.segmentationMaxVoxels);
        if (input.format !== VolumeFormat.DicomZip) assertSameGrid(input.geometry, geometry);
        reference = { format, file: name, labels: form.labels() };
      }
      const params: SegmentationParams = { input, reference, organs: form.organList(), fast: form.fast ?? false };
      return await this.jobs.enqueue(JobKind.Segmentation, principal.name, params, jobId);
    } catch (error) {
      await this.storage.remove(jobId);
      throw error;
    }
  }

  /** What the image parts are: one volume file, one zip of DICOM files, or DICOM files. */
  private async inputKind(images: UploadedFile[]): Promise<VolumeFormat | 'dicom-files'> {
    if (images.length > 1) return 'dicom-files';
    const [image] = images;
    const named = formatOfFileName(image.clientName);
    if (named) return named;
    // Any other name (or none): a zip, or a DICOM file (an enhanced multi-frame CT is one file).
    if (await looksLikeZip(image.path)) return VolumeFormat.DicomZip;
    if (await readDicomHeader(image.path, image.clientName || 'image')) return 'dicom-files';
    return formatFromFileName(image.clientName);
  }

  /**
   * Stores the input in the job's folder. A volume file gets its header checked; DICOM (zip or
   * files) gets only what is cheap here — the zip streamed to files, each file's header, series
   * grouping and the grid from the tags — and the worker decodes the pixels.
   */
  private async storeInput(images: UploadedFile[], jobId: string, seriesUid: string | undefined): Promise<SegmentationParams['input']> {
    const kind = await this.inputKind(images);
    if (kind !== VolumeFormat.DicomZip && kind !== 'dicom-files') {
      const [image] = images;
      if (seriesUid) throw invalidField('seriesUid', 'seriesUid applies only to DICOM');
      const name = this.storage.uploadName('input', kind);
      const file = await this.storage.storeUpload(jobId, image.path, name);
      await this.checkFile(file, kind);
      const geometry = await readVolumeHeader(file, this.config.segmentationMaxVoxels);
      return { format: kind, file: name, clientFileName: image.clientName, geometry };
    }
    const directory = await this.storage.dicomFolder(jobId);
    let files: DicomUploadFile[];
    if (kind === VolumeFormat.DicomZip) {
      files = await extractZip(images[0].path, directory, { maxEntries: DICOM_MAX_FILES, maxUncompressedBytes: 4 * this.config.uploadMaxBytes });
    } else {
      files = images.map((image, index) => {
        const target = path.join(directory, `${String(index).padStart(6, '0')}.dcm`);
        fs.renameSync(image.path, target);
        return { path: target, name: image.clientName || `part ${index + 1}` };
      });
    }
    await this.storage.commitDicom(jobId);
    const { files: series, geometry, report } = await intakeDicomFiles(files, { seriesUid, maxVoxels: this.config.segmentationMaxVoxels });
    return {
      format: VolumeFormat.DicomZip,
      dicomFiles: series.map((f) => this.storage.dicomName(directory, f)),
      seriesUid: report.seriesUid,
      clientFileName: images.length === 1 ? images[0].clientName : `${images.length} files`,
      geometry,
      dicom: report,
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
    return this.finishedOutput(await this.find(principal, id), name);
  }

  /**
   * The DICOM SEG of a segmentation: 409 for a NIfTI/NRRD/MHA input (nothing DICOM to
   * reference), while unfinished, or when the worker found it could not make one (with why).
   */
  async dicomSegFile(principal: Principal, id: string): Promise<string> {
    const job = await this.find(principal, id);
    const { input } = job.params;
    if (!isDicomInput(input)) {
      throw new SegmentationError(
        'segmentation.dicom-seg-needs-dicom-input',
        `Segmentation ${id} was made from "${input.clientFileName}" (${input.format}), not from DICOM: a DICOM SEG references the source study, series, instances and frame of reference, which only a DICOM upload carries. Use /segmentations/${id}/labels (NIfTI) instead`,
        { details: { inputFormat: input.format } },
      );
    }
    const seg = job.status === JobStatus.succeeded ? job.result?.dicomSeg : undefined;
    if (seg && !seg.available) {
      throw new SegmentationError('segmentation.dicom-seg-unavailable', `Segmentation ${id} has no DICOM SEG: ${seg.detail}`, { details: { reason: seg.problem } });
    }
    return this.finishedOutput(job, 'dicom-seg.dcm');
  }

  /**
   * The CT a finished segmentation was made from, as a file a web viewer reads: the upload itself
   * for NIfTI/NRRD/MHA, the series as read (NIfTI) for DICOM. `name` carries the right extension.
   */
  async imageFile(principal: Principal, id: string): Promise<{ file: string; name: string }> {
    const job = await this.find(principal, id);
    if (isDicomInput(job.params.input)) return { file: await this.finishedOutput(job, 'image.nii.gz'), name: `${id}_image.nii.gz` };
    await this.finishedOutput(job, 'labels.nii.gz');
    if (!(await this.storage.inputExists(id, job.params.input))) throw new SegmentationError('segmentation.output-missing', `The image of segmentation ${id} is gone`);
    const [file] = await this.storage.inputFiles(id, job.params.input);
    return { file, name: `${id}_image${extensionOf(job.params.input.format)}` };
  }

  private async finishedOutput(job: SegmentationJob, name: SegmentationOutput): Promise<string> {
    if (job.status !== JobStatus.succeeded) {
      throw new SegmentationError('segmentation.not-finished', `Segmentation ${job.id} is ${job.status}; outputs exist once it has succeeded`);
    }
    const file = await this.storage.output(job.id, name);
    if (!file) throw new SegmentationError('segmentation.output-missing', `The ${name} of segmentation ${job.id} is gone`);
    return file;
  }
}
