import fs from 'node:fs';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { VolumeFormat, extensionOf } from '@lumen/volumes';
import type { SegmentationParams } from './segmentation-params.js';

/** The files a finished segmentation serves. */
export type SegmentationOutput = 'labels.nii.gz' | 'preview.png' | 'dicom-seg.dcm' | 'image.nii.gz';

/**
 * The one place that knows a segmentation job's folder, DATA_DIR/segmentations/<jobId>/:
 * `input.<ext>` or `dicom/…` (the upload), `reference.<ext>`, and the outputs `labels.nii.gz`,
 * `preview.png` and, for DICOM inputs, `dicom-seg.dcm` and `image.nii.gz` (the series as read, for
 * the web page's viewer). Every name is ours; the API writes the uploads here and the worker reads
 * them and writes the outputs. Params hold names relative to the folder.
 */
@Injectable()
export class SegmentationStorage {
  readonly root: string;

  constructor(@Inject(CONFIG) config: LumenConfig) {
    this.root = path.join(config.dataDir, 'segmentations');
  }

  jobDir(jobId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(jobId)) throw new Error(`not a job id: ${jobId}`);
    return path.join(this.root, jobId);
  }

  async create(jobId: string): Promise<string> {
    await fs.promises.mkdir(this.jobDir(jobId), { recursive: true });
    return this.jobDir(jobId);
  }

  /** Where an uploaded image (not a DICOM zip) or reference of this format is kept. */
  upload(jobId: string, role: 'input' | 'reference', format: VolumeFormat): { name: string; path: string } {
    const name = `${role}${extensionOf(format)}`;
    return { name, path: path.join(this.jobDir(jobId), name) };
  }

  /** The folder a DICOM zip is extracted into. */
  dicomDir(jobId: string): string {
    return path.join(this.jobDir(jobId), 'dicom');
  }

  /** The name to store in the params for a file inside the job's folder. */
  relative(jobId: string, file: string): string {
    return path.relative(this.jobDir(jobId), file);
  }

  /** The input's files: one volume file, or the chosen DICOM series' slices. */
  inputFiles(jobId: string, input: SegmentationParams['input']): string[] {
    const names = input.format === VolumeFormat.DicomZip ? (input.dicomFiles ?? []) : [input.file!];
    return names.map((name) => path.join(this.jobDir(jobId), name));
  }

  referenceFile(jobId: string, reference: NonNullable<SegmentationParams['reference']>): string {
    return path.join(this.jobDir(jobId), reference.file);
  }

  output(jobId: string, name: SegmentationOutput): string {
    return path.join(this.jobDir(jobId), name);
  }

  async remove(jobId: string): Promise<void> {
    await fs.promises.rm(this.jobDir(jobId), { recursive: true, force: true });
  }
}
