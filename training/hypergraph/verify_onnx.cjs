// Check an exported Hyper-SAGNN ONNX model with onnxruntime-node:
//   node training/hypergraph/verify_onnx.cjs models/hypersagnn-gps/1
// Scores test-eval.bin.gz through the ONNX model, recomputes the AUC (rank-based, ties averaged)
// and compares it with card.json; also checks that size-2 candidates padded to size 3 match.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const ort = require('onnxruntime-node');

function auc(labels, scores) {
  const idx = scores.map((s, i) => i).sort((a, b) => scores[a] - scores[b]);
  const ranks = new Float64Array(scores.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]] = r;
    i = j + 1;
  }
  let nPos = 0, sumPos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) { nPos++; sumPos += ranks[i]; }
  const nNeg = labels.length - nPos;
  return (sumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

async function main() {
  const dir = process.argv[2];
  const card = JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8'));
  const offs = card.preprocessing.nodeTypes.map((t) => t.offset);
  const buf = zlib.gunzipSync(fs.readFileSync(path.join(dir, 'test-eval.bin.gz')));
  const rows = new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const n = rows.length / 4;
  const sess = await ort.InferenceSession.create(path.join(dir, 'model.onnx'));
  const labels = [], scores = [];
  const B = 4096;
  let maxPadDiff = 0;
  for (let s = 0; s < n; s += B) {
    const b = Math.min(B, n - s);
    const idx = new BigInt64Array(b * 3), mask = new Float32Array(b * 3).fill(1);
    for (let i = 0; i < b; i++) {
      for (let c = 0; c < 3; c++) idx[i * 3 + c] = BigInt(rows[(s + i) * 4 + c] + offs[c]);
      labels.push(rows[(s + i) * 4 + 3]);
    }
    const out = await sess.run({
      node_index: new ort.Tensor('int64', idx, [b, 3]),
      node_mask: new ort.Tensor('float32', mask, [b, 3]),
    });
    for (const v of out.score.data) scores.push(v);
    if (s === 0) {
      // size-2 (drop the last node) unpadded vs padded to 3
      const i2 = new BigInt64Array(b * 2), m2 = new Float32Array(b * 2).fill(1);
      const i3 = new BigInt64Array(b * 3), m3 = new Float32Array(b * 3);
      for (let i = 0; i < b; i++) {
        for (let c = 0; c < 2; c++) { i2[i * 2 + c] = idx[i * 3 + c]; i3[i * 3 + c] = idx[i * 3 + c]; m3[i * 3 + c] = 1; }
        i3[i * 3 + 2] = 0n;
      }
      const o2 = await sess.run({ node_index: new ort.Tensor('int64', i2, [b, 2]), node_mask: new ort.Tensor('float32', m2, [b, 2]) });
      const o3 = await sess.run({ node_index: new ort.Tensor('int64', i3, [b, 3]), node_mask: new ort.Tensor('float32', m3, [b, 3]) });
      for (let i = 0; i < b; i++) maxPadDiff = Math.max(maxPadDiff, Math.abs(o2.score.data[i] - o3.score.data[i]));
    }
  }
  const a = auc(labels, scores);
  const res = { model: dir, candidates: n, onnxAuc: +a.toFixed(5), cardAuc: card.metrics.test.auc,
    absDiff: +Math.abs(a - card.metrics.test.auc).toFixed(5), maxPadDiff };
  console.log(JSON.stringify(res));
  if (res.absDiff > 0.001 || maxPadDiff > 1e-5) process.exit(1);
}
main().catch((e) => { console.error(e); process.exit(2); });
