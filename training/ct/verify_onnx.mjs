// Check the exported CT models with onnxruntime-node against PyTorch's output on the probe input
// written by export_word.py:  node training/ct/verify_onnx.mjs
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

const cache = path.resolve('.cache/ct');
for (const name of ['ct-organs-coarse', 'ct-organs-fine']) {
  const probe = JSON.parse(fs.readFileSync(path.join(cache, `onnx_probe_${name}.json`), 'utf8'));
  const read = (f) => { const b = fs.readFileSync(path.join(cache, f)); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
  const input = read(`onnx_probe_${name}_in.bin`);
  const expected = read(`onnx_probe_${name}_out.bin`);
  const session = await ort.InferenceSession.create(probe.model);
  const out = await session.run({ image: new ort.Tensor('float32', Float32Array.from(input), probe.shape) });
  const got = out.logits.data;
  let err = 0;
  for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - expected[i]));
  console.log(name, 'max |onnxruntime - torch| =', err);
  if (!(err < 1e-3) || got.length !== expected.length) process.exit(1);
}
