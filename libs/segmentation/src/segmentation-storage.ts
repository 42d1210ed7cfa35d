import path from 'node:path';
import { Injectable } from '@nestjs/common';
import { Storage } from '@lumen/storage';
import { VolumeFormat, extensionOf } from '@lumen/volumes';
import type { SegmentationParams } from './segmentation-params.js';

/** The files a finished segmentation serves. */
export type SegmentationOutput = 'labels.nii.gz' | 'preview.png' | 'dicom-seg.dcm' | 'image.nii.gz';

/** The folder a DICOM series is kept in, inside the job's. */
const DICOM_FOLDER = 'dicom';

/**
 * The one place that knows a segmentation job's objects in the shared storage (libs/storage),
 * under `segmentations/<jobId>/`: `input.<ext>` or `dicom/…` (the upload), `reference.<ext>`, and
 * the outputs `labels.nii.gz`, `preview.png` and, for DICOM inputs, `dicom-seg.dcm` and
 * `image.nii.gz` (the series as read, for the web page's viewer). Every name is ours; the API
 * stores the uploads and the worker reads them and writes the outputs. Params hold names relative
 * to the job.
 */
@Injectable()
export class SegmentationStorage {
  constructor(private readonly storage: Storage) {}

  private key(jobId: string, name = ''): string {
    if (!/^[0-9a-f-]{36}$/.test(jobId)) throw new Error(`not a job id: ${jobId}`);
    return name ? `segmentations/${jobId}/${name}` : `segmentations/${jobId}`;
  }

  /** The name an uploaded image (not DICOM) or reference of this format is kept under. */
  uploadName(role: 'input' | 'reference', format: VolumeFormat): string {
    return `${role}${extensionOf(format)}`;
  }

  /** Takes over an uploaded file as the job's `name`; returns a local file to check it in. */
  async storeUpload(jobId: string, localFile: string, name: string): Promise<string> {
    await this.storage.putFile(localFile, this.key(jobId, name));
    return this.storage.readPath(this.key(jobId, name));
  }

  /** A local folder to put a DICOM series in (extracted from a zip, or the files moved there); `commitDicom` stores it. */
  dicomFolder(jobId: string): Promise<string> {
    return this.storage.writeDirectory(this.key(jobId, DICOM_FOLDER));
  }

  commitDicom(jobId: string): Promise<void> {
    return this.storage.commit(this.key(jobId, DICOM_FOLDER));
  }

  /** The name to store in the params for a file of the DICOM folder. */
  dicomName(folder: string, file: string): string {
    return `${DICOM_FOLDER}/${path.relative(folder, file).split(path.sep).join('/')}`;
  }

  /** Local files of the input: one volume file, or the chosen DICOM series' slices. */
  inputFiles(jobId: string, input: SegmentationParams['input']): Promise<string[]> {
    const names = input.format === VolumeFormat.DicomZip ? (input.dicomFiles ?? []) : [input.file!];
    return Promise.all(names.map((name) => this.storage.readPath(this.key(jobId, name))));
  }

  inputExists(jobId: string, input: SegmentationParams['input']): Promise<boolean> {
    return this.storage.exists(this.key(jobId, input.format === VolumeFormat.DicomZip ? DICOM_FOLDER : input.file!));
  }

  referenceFile(jobId: string, reference: NonNullable<SegmentationParams['reference']>): Promise<string> {
    return this.storage.readPath(this.key(jobId, reference.file));
  }

  /** Writes an output from a writer that takes a file path (the label map, the series as NIfTI). */
  async writeOutput(jobId: string, name: SegmentationOutput, write: (file: string) => Promise<void>): Promise<void> {
    await write(await this.storage.writePath(this.key(jobId, name)));
    await this.storage.commit(this.key(jobId, name));
  }

  putOutput(jobId: string, name: SegmentationOutput, bytes: Uint8Array): Promise<void> {
    return this.storage.putBytes(this.key(jobId, name), bytes);
  }

  /** A local file with the output, or null when there is none. */
  async output(jobId: string, name: SegmentationOutput): Promise<string | null> {
    const key = this.key(jobId, name);
    return (await this.storage.exists(key)) ? this.storage.readPath(key) : null;
  }

  async remove(jobId: string): Promise<void> {
    await this.storage.removeAll(this.key(jobId));
  }
}
