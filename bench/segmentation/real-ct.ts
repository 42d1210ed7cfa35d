/**
 * Dice of stage 1 alone and of the cascade on the real CT in ../shared/data/ct against its
 * reference labels (liver 5, spleen 1, pancreas 7 in that file). A test, not training data.
 *
 *   npm run build && node dist/bench/segmentation/real-ct.js [version]
 * Version: the models' registry version (default: the highest, i.e. the served one).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { cascadeConfigFromCards, runCascade } from '@lumen/segmentation';
import { dice, readVolume } from '@lumen/volumes';
import { servedVersion } from '../support.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const CT = path.resolve(ROOT, '..', 'shared', 'data', 'ct');
const REFERENCE_IDS: [string, number, number][] = [['liver', 1, 5], ['spleen', 2, 1], ['pancreas', 3, 7]];

const version = (name: string) => process.argv[2] ?? servedVersion(ROOT, name);
const card = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'models', name, version(name), 'card.json'), 'utf8'));
const config = cascadeConfigFromCards(card('ct-organs-coarse'), card('ct-organs-fine'));
const sessions: Record<string, ort.InferenceSession> = {};
for (const name of ['ct-organs-coarse', 'ct-organs-fine']) sessions[name] = await ort.InferenceSession.create(path.join(ROOT, 'models', name, version(name), 'model.onnx'));
const infer = async (model: string, input: Float32Array, shape: [number, number, number]) =>
  (await sessions[model].run({ image: new ort.Tensor('float32', input, [1, 1, ...shape]) })).logits.data as Float32Array;

const volume = await readVolume(path.join(CT, 'abdomen_ct_3mm.nii.gz'), 1e9);
const reference = await readVolume(path.join(CT, 'abdomen_ct_3mm_reference_labels.nii.gz'), 1e9);
const report: Record<string, unknown> = { volume: 'abdomen_ct_3mm.nii.gz', size: volume.size, version: version('ct-organs-fine') };
for (const fast of [true, false]) {
  const result = await runCascade(volume, config, infer, { fast, organs: [1, 2, 3] }, async () => {});
  report[fast ? 'stage1Dice' : 'cascadeDice'] = Object.fromEntries(
    REFERENCE_IDS.map(([organ, ours, theirs]) => [organ, Number((dice(result.labels, ours, reference.data, theirs) ?? NaN).toFixed(4))]),
  );
  if (!fast) report.stage2 = result.stage2;
}
console.log(JSON.stringify(report, null, 1));
