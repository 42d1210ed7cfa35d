/**
 * The served cascade outside the service, for the segmentation benches: both stages' cards read
 * into a CascadeConfig, their ONNX files, and an Infer on ONNX Runtime sessions opened with the
 * service's session options.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { modelFile, sessionOptions } from '@lumen/inference';
import { type CascadeConfig, type CascadeThreadModels, type Infer, cascadeConfigFromCards } from '@lumen/segmentation';
import { ROOT, servedVersion } from '../support.js';

const STAGES = ['ct-organs-coarse', 'ct-organs-fine'];

export type ServedCascade = { config: CascadeConfig; infer: Infer; version: string; files: CascadeThreadModels['models'] };

/** `version`: a registry version of both models (default: each one's served, i.e. highest); `threads`: intra-op threads (0: ONNX Runtime's default). */
export async function servedCascade(options: { version?: string; threads?: number } = {}): Promise<ServedCascade> {
  const directory = (name: string) => path.join(ROOT, 'models', name, options.version ?? servedVersion(ROOT, name));
  const card = (name: string) => JSON.parse(fs.readFileSync(path.join(directory(name), 'card.json'), 'utf8'));
  const files = Object.fromEntries(STAGES.map((name) => [name, { file: modelFile(directory(name)), provider: 'cpu' as const }]));
  const sessions: Record<string, ort.InferenceSession> = {};
  for (const name of STAGES) sessions[name] = await ort.InferenceSession.create(files[name].file, sessionOptions('cpu', options.threads ?? 0));
  const infer: Infer = async (model, input, shape) => (await sessions[model].run({ image: new ort.Tensor('float32', input, [1, 1, ...shape]) })).logits.data as Float32Array;
  return { config: cascadeConfigFromCards(card(STAGES[0]), card(STAGES[1])), infer, version: path.basename(directory(STAGES[1])), files };
}
