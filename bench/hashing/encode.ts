/**
 * Encoding throughput: images/s through Lumen's preprocessing (sharp decode + normalise) and
 * ONNX Runtime, against bench/hashing/pytorch_encode.py (PIL + PyTorch) on the same files,
 * same batch size and one inference thread each.
 *
 *   npm run build && node dist/bench/hashing/encode.js [--bits 64] [--n 2000] [--batch 64] [--threads 1]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { imageToTensor, packSigns, readPreprocessing } from '@lumen/hashing';
import { MODELS_DIR, ROOT, arg, cifarFiles, servedVersion } from './support.js';

const bits = Number(arg('bits', '64'));
const n = Number(arg('n', '2000'));
const batch = Number(arg('batch', '64'));
const threads = Number(arg('threads', '1'));
const model = `hash-cifar10-${bits}bit`;
const version = servedVersion(model);
const dir = path.join(MODELS_DIR, model, version);
const card = JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8'));
const prep = readPreprocessing(card.preprocessing, model);
// The same first-N files, in the same order, as pytorch_encode.py picks without --files.
const files = cifarFiles('test').slice(0, n).map((f) => f.file);

sharp.concurrency(threads);
const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const input = card.inputs[0].name as string;
const output = card.outputs[0].name as string;

async function encode(batchFiles: string[]): Promise<Uint8Array[]> {
  const per = 3 * prep.width * prep.height;
  const tensors = await Promise.all(batchFiles.map(async (f) => imageToTensor(await fs.promises.readFile(f), prep)));
  const data = new Float32Array(tensors.length * per);
  tensors.forEach((t, i) => data.set(t, i * per));
  const result = await session.run({ [input]: new ort.Tensor('float32', data, [tensors.length, 3, prep.height, prep.width]) });
  const codes = result[output].data as Float32Array;
  return tensors.map((_, i) => packSigns(codes, i * bits, bits));
}

for (let w = 0; w < 2; w++) await encode(files.slice(0, batch));
const start = performance.now();
let encoded = 0;
for (let s = 0; s < files.length; s += batch) encoded += (await encode(files.slice(s, s + batch))).length;
const seconds = (performance.now() - start) / 1000;
const lumen = encoded / seconds;

let pytorch: { imagesPerSecond: number; torch: string } | null = null;
try {
  // argv holds thousands of paths comfortably; pass them directly as pytorch_encode.py expects.
  pytorch = JSON.parse(
    execFileSync('/usr/bin/python3', [path.join(ROOT, 'bench', 'hashing', 'pytorch_encode.py'), '--bits', String(bits), '--batch', String(batch), '--threads', String(threads), '--files', ...files], {
      encoding: 'utf8',
      cwd: ROOT,
      maxBuffer: 16 << 20,
    }).trim().split('\n').pop()!,
  );
} catch (error) {
  console.error(`PyTorch run failed: ${(error as Error).message.split('\n')[0]}`);
}

console.log(
  JSON.stringify(
    {
      model,
      version,
      images: encoded,
      batch,
      threads,
      lumenImagesPerSecond: Math.round(lumen * 10) / 10,
      pytorchImagesPerSecond: pytorch?.imagesPerSecond ?? null,
      ratioLumenOverPytorch: pytorch ? Math.round((lumen / pytorch.imagesPerSecond) * 100) / 100 : null,
      onnxruntime: ort.env.versions?.common ?? 'unknown',
      torch: pytorch?.torch ?? null,
      cpu: os.cpus()[0]?.model,
    },
    null,
    2,
  ),
);
