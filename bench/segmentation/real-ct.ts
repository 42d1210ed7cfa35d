/**
 * Dice of stage 1 alone and of the cascade on the real CT in ../shared/data/ct against its
 * reference labels (liver 5, spleen 1, pancreas 7 in that file). A test, not training data.
 *
 *   npm run build && node dist/bench/segmentation/real-ct.js [version]
 * Version: the models' registry version (default: the highest, i.e. the served one).
 */
import path from 'node:path';
import { runCascade } from '@lumen/segmentation';
import { dice, readVolume } from '@lumen/volumes';
import { ROOT } from '../support.js';
import { servedCascade } from './served-cascade.js';

const CT = path.resolve(ROOT, '..', 'shared', 'data', 'ct');
const REFERENCE_IDS: [string, number, number][] = [['liver', 1, 5], ['spleen', 2, 1], ['pancreas', 3, 7]];

const { config, infer, version } = await servedCascade({ version: process.argv[2] });

const volume = await readVolume(path.join(CT, 'abdomen_ct_3mm.nii.gz'), 1e9);
const reference = await readVolume(path.join(CT, 'abdomen_ct_3mm_reference_labels.nii.gz'), 1e9);
const report: Record<string, unknown> = { volume: 'abdomen_ct_3mm.nii.gz', size: volume.size, version };
for (const fast of [true, false]) {
  const result = await runCascade(volume, config, infer, { fast, organs: [1, 2, 3] }, async () => {});
  report[fast ? 'stage1Dice' : 'cascadeDice'] = Object.fromEntries(
    REFERENCE_IDS.map(([organ, ours, theirs]) => [organ, Number((dice(result.labels, ours, reference.data, theirs) ?? NaN).toFixed(4))]),
  );
  if (!fast) report.stage2 = result.stage2;
}
console.log(JSON.stringify(report, null, 1));
