import type { Shape3 } from '@lumen/volumes';

/** Tile starts along one axis: every `stride`, the last one flush with the end (as nnU-Net). */
export function tileStarts(length: number, patch: number, stride: number): number[] {
  if (length <= patch) return [0];
  const starts: number[] = [];
  for (let s = 0; s <= length - patch; s += stride) starts.push(s);
  if (starts[starts.length - 1] !== length - patch) starts.push(length - patch);
  return starts;
}

/**
 * Tile starts along one axis of a volume `length` long that cover the voxels `lo`..`hi - 1` (the
 * candidate region's extent): the same grid as `tileStarts`, anchored on the region instead of
 * the volume, so a small region costs as few tiles as its size needs wherever it lies. Starts
 * stay inside the volume when it is at least a patch long; a shorter volume gets `[0]` (padded).
 */
export function tileStartsCovering(length: number, patch: number, stride: number, lo: number, hi: number): number[] {
  if (length <= patch) return [0];
  const span = Math.max(hi - lo, patch);
  const origin = Math.max(0, Math.min(lo, length - span));
  return tileStarts(Math.min(span, length), patch, stride).map((s) => s + origin);
}

/**
 * nnU-Net's importance map: a Gaussian centred on the patch with sigma = patch × fraction per
 * axis, scaled to a maximum of 1, so tile borders count less where tiles overlap.
 */
export function gaussianImportance(patch: Shape3, sigmaFraction: number): Float32Array {
  const axis = (n: number) => {
    const sigma = n * sigmaFraction;
    const centre = Math.floor(n / 2);
    return Float64Array.from({ length: n }, (_, i) => Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma)));
  };
  const [gz, gy, gx] = patch.map(axis);
  const out = new Float32Array(patch[0] * patch[1] * patch[2]);
  let o = 0;
  for (let z = 0; z < patch[0]; z++) for (let y = 0; y < patch[1]; y++) for (let x = 0; x < patch[2]; x++) out[o++] = gz[z] * gy[y] * gx[x];
  return out;
}

/** Class of the highest score per voxel; scores laid out [class][voxel]. */
export function argmaxClasses(scores: Float32Array, classes: number, voxels: number, sourceStride = voxels, pick?: (v: number) => number): Uint8Array {
  const out = new Uint8Array(voxels);
  for (let v = 0; v < voxels; v++) {
    const s = pick ? pick(v) : v;
    let best = 0;
    let bestScore = scores[s];
    for (let c = 1; c < classes; c++) {
      const value = scores[c * sourceStride + s];
      if (value > bestScore) {
        bestScore = value;
        best = c;
      }
    }
    out[v] = best;
  }
  return out;
}

/** Adds softmax(logits) × weight into `accumulator` (both [class][voxel] over the patch box). */
export function accumulateSoftmax(
  logits: Float32Array,
  classes: number,
  weight: Float32Array,
  accumulator: Float32Array,
  box: { shape: Shape3; start: Shape3; size: Shape3 },
): void {
  const [pz, py, px] = box.size;
  const patchVoxels = pz * py * px;
  const [, ay, ax] = box.shape;
  const boxVoxels = box.shape[0] * ay * ax;
  const e = new Float32Array(classes);
  let v = 0;
  for (let z = 0; z < pz; z++) {
    for (let y = 0; y < py; y++) {
      let target = ((box.start[0] + z) * ay + box.start[1] + y) * ax + box.start[2];
      for (let x = 0; x < px; x++, v++, target++) {
        let max = -Infinity;
        for (let c = 0; c < classes; c++) max = Math.max(max, logits[c * patchVoxels + v]);
        let sum = 0;
        for (let c = 0; c < classes; c++) sum += e[c] = Math.exp(logits[c * patchVoxels + v] - max);
        const w = weight[v] / sum;
        for (let c = 0; c < classes; c++) accumulator[c * boxVoxels + target] += e[c] * w;
      }
    }
  }
}
