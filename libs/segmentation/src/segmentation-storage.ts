import fs from 'node:fs';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type LumenConfig } from '@lumen/config';

/** Where a segmentation job keeps its files: DATA_DIR/segmentations/<jobId>/ (names are ours). */
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

  file(jobId: string, name: 'labels.nii.gz' | 'preview.png' | string): string {
    return path.join(this.jobDir(jobId), name);
  }

  async remove(jobId: string): Promise<void> {
    await fs.promises.rm(this.jobDir(jobId), { recursive: true, force: true });
  }
}
