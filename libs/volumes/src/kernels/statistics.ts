import { type Geometry, indexToPhysical } from '../geometry.js';
import type { NumericArray } from './grid.js';


export type RegionStatistics = {
  voxels: number;
  volumeMl: number;
  meanHu: number;
  stdHu: number;
  /** Physical (LPS mm) box spanned by the voxel centres. */
  boundingBoxMm: { min: [number, number, number]; max: [number, number, number] };
  centroidMm: [number, number, number];
  touchesBorder: boolean;
};

/** Statistics of every label in one pass over a label map and its image, on the same grid. */
export function labelStatistics(labels: Uint8Array, image: NumericArray, g: Geometry, labelIds: number[]): Map<number, RegionStatistics | null> {
  const [ni, nj, nk] = g.size;
  type Acc = { n: number; sum: number; sumSq: number; si: number; sj: number; sk: number; lo: number[]; hi: number[]; border: boolean };
  const acc = new Map<number, Acc>(labelIds.map((id) => [id, { n: 0, sum: 0, sumSq: 0, si: 0, sj: 0, sk: 0, lo: [ni, nj, nk], hi: [-1, -1, -1], border: false }]));
  let v = 0;
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, v++) {
        const label = labels[v];
        if (label === 0) continue;
        const a = acc.get(label);
        if (!a) continue;
        const hu = image[v];
        a.n++;
        a.sum += hu;
        a.sumSq += hu * hu;
        a.si += i;
        a.sj += j;
        a.sk += k;
        if (i < a.lo[0]) a.lo[0] = i;
        if (j < a.lo[1]) a.lo[1] = j;
        if (k < a.lo[2]) a.lo[2] = k;
        if (i > a.hi[0]) a.hi[0] = i;
        if (j > a.hi[1]) a.hi[1] = j;
        if (k > a.hi[2]) a.hi[2] = k;
        if (i === 0 || j === 0 || k === 0 || i === ni - 1 || j === nj - 1 || k === nk - 1) a.border = true;
      }
    }
  }
  const voxelMm3 = g.spacing[0] * g.spacing[1] * g.spacing[2];
  const result = new Map<number, RegionStatistics | null>();
  for (const [id, a] of acc) {
    if (a.n === 0) {
      result.set(id, null);
      continue;
    }
    const mean = a.sum / a.n;
    const corners: [number, number, number][] = [];
    for (const i of [a.lo[0], a.hi[0]]) for (const j of [a.lo[1], a.hi[1]]) for (const k of [a.lo[2], a.hi[2]]) corners.push(indexToPhysical(g, i, j, k));
    const min = [0, 1, 2].map((axis) => Math.min(...corners.map((c) => c[axis]))) as [number, number, number];
    const max = [0, 1, 2].map((axis) => Math.max(...corners.map((c) => c[axis]))) as [number, number, number];
    result.set(id, {
      voxels: a.n,
      volumeMl: (a.n * voxelMm3) / 1000,
      meanHu: mean,
      stdHu: Math.sqrt(Math.max(0, a.sumSq / a.n - mean * mean)),
      boundingBoxMm: { min, max },
      centroidMm: indexToPhysical(g, a.si / a.n, a.sj / a.n, a.sk / a.n),
      touchesBorder: a.border,
    });
  }
  return result;
}

/** Dice of `predicted == predictedLabel` against `reference == referenceLabel`; null when both are empty. */
export function dice(predicted: Uint8Array, predictedLabel: number, reference: ArrayLike<number>, referenceLabel: number): number | null {
  let a = 0;
  let b = 0;
  let both = 0;
  for (let i = 0; i < predicted.length; i++) {
    const p = predicted[i] === predictedLabel;
    const r = reference[i] === referenceLabel;
    if (p) a++;
    if (r) b++;
    if (p && r) both++;
  }
  return a + b === 0 ? null : (2 * both) / (a + b);
}
