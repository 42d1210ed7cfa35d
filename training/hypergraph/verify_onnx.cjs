// Check an exported Hyper-SAGNN ONNX model with onnxruntime-node:
//   node training/hypergraph/verify_onnx.cjs models/hypersagnn-gps/2 [--against previous.onnx]
// Scores test-eval.bin.gz through the ONNX model, recomputes the AUC (rank-based, ties averaged)
// and compares it with card.json; also checks that size-2 candidates padded to size 3 match.
// With --against, also scores the same rows with another graph of the same model (fuse.py runs
// this against the graph it replaced) and requires every score and node_prob within 1e-5 of it,
// as size-3, size-2 and size-2-padded-in-the-middle candidates, and AUC/AUPR equal to 4 decimals.
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

/** Average precision as sklearn computes it: sum over distinct thresholds of (R_k - R_k-1) * P_k. */
function aupr(labels, scores) {
  const idx = scores.map((s, i) => i).sort((a, b) => scores[b] - scores[a]);
  const nPos = labels.filter((l) => l === 1).length;
  let tp = 0, fp = 0, prevRecall = 0, ap = 0;
  for (let i = 0; i < idx.length; i++) {
    if (labels[idx[i]] === 1) tp++; else fp++;
    if (i + 1 < idx.length && scores[idx[i + 1]] === scores[idx[i]]) continue;
    const recall = tp / nPos;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}

/** Candidates of rows [start, start+b) as `variant`: '3' as given, '2' without the last node, 'pad-mid' the middle node as padding. */
function feeds(rows, offs, start, b, variant) {
  const size = variant === '2' ? 2 : 3;
  const idx = new BigInt64Array(b * size), mask = new Float32Array(b * size).fill(1);
  for (let i = 0; i < b; i++) {
    for (let c = 0; c < size; c++) {
      if (variant === 'pad-mid' && c === 1) { idx[i * size + c] = 0n; mask[i * size + c] = 0; continue; }
      idx[i * size + c] = BigInt(rows[(start + i) * 4 + c] + offs[c]);
    }
  }
  return { node_index: new ort.Tensor('int64', idx, [b, size]), node_mask: new ort.Tensor('float32', mask, [b, size]) };
}

async function main() {
  const dir = process.argv[2];
  const at = process.argv.indexOf('--against');
  const against = at > 0 ? process.argv[at + 1] : null;
  const card = JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8'));
  const offs = card.preprocessing.nodeTypes.map((t) => t.offset);
  const buf = zlib.gunzipSync(fs.readFileSync(path.join(dir, 'test-eval.bin.gz')));
  const rows = new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const n = rows.length / 4;
  const sess = await ort.InferenceSession.create(path.join(dir, 'model.onnx'));
  const ref = against ? await ort.InferenceSession.create(against) : null;
  const labels = [], scores = [], refScores = [];
  const B = 4096;
  let maxPadDiff = 0, maxDiff = 0;
  for (let s = 0; s < n; s += B) {
    const b = Math.min(B, n - s);
    for (let i = 0; i < b; i++) labels.push(rows[(s + i) * 4 + 3]);
    const full = feeds(rows, offs, s, b, '3');
    const out = await sess.run(full);
    for (const v of out.score.data) scores.push(v);
    if (ref) {
      for (const variant of ['3', '2', 'pad-mid']) {
        const f = variant === '3' ? full : feeds(rows, offs, s, b, variant);
        const [mine, theirs] = [variant === '3' ? out : await sess.run(f), await ref.run(f)];
        if (variant === '3') for (const v of theirs.score.data) refScores.push(v);
        const m = f.node_mask.data;
        for (let i = 0; i < b; i++) maxDiff = Math.max(maxDiff, Math.abs(mine.score.data[i] - theirs.score.data[i]));
        for (let i = 0; i < m.length; i++) if (m[i]) maxDiff = Math.max(maxDiff, Math.abs(mine.node_prob.data[i] - theirs.node_prob.data[i]));
        if (Number.isNaN(maxDiff)) maxDiff = Infinity;
      }
    }
    if (s === 0) {
      // size-2 (drop the last node) unpadded vs padded to 3
      const i2 = new BigInt64Array(b * 2), m2 = new Float32Array(b * 2).fill(1);
      const i3 = new BigInt64Array(b * 3), m3 = new Float32Array(b * 3);
      const idx = full.node_index.data;
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
  let failed = res.absDiff > 0.001 || maxPadDiff > 1e-5;
  if (ref) {
    const figures = (s) => ({ auc: auc(labels, s).toFixed(4), aupr: aupr(labels, s).toFixed(4) });
    Object.assign(res, { against, maxDiffAgainst: maxDiff, figures: figures(scores), figuresAgainst: figures(refScores) });
    failed ||= !(maxDiff <= 1e-5) || JSON.stringify(res.figures) !== JSON.stringify(res.figuresAgainst);
  }
  console.log(JSON.stringify(res));
  if (failed) process.exit(1);
}
main().catch((e) => { console.error(e); process.exit(2); });
