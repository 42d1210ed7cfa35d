import type { NumericArray, Shape3 } from './grid.js';

/**
 * Grids share their first voxel centre: output voxel j sits at input coordinate
 * j * spacingOut / spacingIn (clamped to the input). The training code (training/ct/common.py)
 * resamples the same way, so served and trained inputs match.
 */
function axisSamples(nIn: number, start: number, count: number, ratio: number) {
  const i0 = new Int32Array(count);
  const i1 = new Int32Array(count);
  const w = new Float32Array(count);
  for (let j = 0; j < count; j++) {
    const p = Math.min(Math.max((start + j) * ratio, 0), nIn - 1);
    const f = Math.floor(p);
    i0[j] = f;
    i1[j] = Math.min(f + 1, nIn - 1);
    w[j] = p - f;
  }
  return { i0, i1, w };
}

/**
 * An output box on a resampled grid: the input's shape and spacing (z, y, x), the output
 * spacing, and the box [start, start + size) in output voxels.
 */
export type ResampleBox = [srcShape: Shape3, srcSpacing: Shape3, dstSpacing: Shape3, start: Shape3, size: Shape3];

/** `sample(inputLength, boxStart, boxSize, outputToInputRatio)` for each axis z, y, x of the box. */
function perAxis<T>(sample: (nIn: number, start: number, count: number, ratio: number) => T, [srcShape, srcSpacing, dstSpacing, start, size]: ResampleBox): [T, T, T] {
  return [0, 1, 2].map((a) => sample(srcShape[a], start[a], size[a], dstSpacing[a] / srcSpacing[a])) as [T, T, T];
}

/**
 * Trilinear resampling of the output box [start, start + size) of the grid with the given
 * spacing. Only that box is computed, so a region of interest never costs a whole volume.
 */
export function resampleLinear(src: NumericArray, ...box: ResampleBox): Float32Array {
  const [[, ny, nx], , , , size] = box;
  const [zs, ys, xs] = perAxis(axisSamples, box);
  const out = new Float32Array(size[0] * size[1] * size[2]);
  let o = 0;
  for (let k = 0; k < size[0]; k++) {
    const z0 = zs.i0[k] * ny;
    const z1 = zs.i1[k] * ny;
    const wz = zs.w[k];
    for (let j = 0; j < size[1]; j++) {
      const r00 = (z0 + ys.i0[j]) * nx;
      const r01 = (z0 + ys.i1[j]) * nx;
      const r10 = (z1 + ys.i0[j]) * nx;
      const r11 = (z1 + ys.i1[j]) * nx;
      const wy = ys.w[j];
      for (let i = 0; i < size[2]; i++) {
        const x0 = xs.i0[i];
        const x1 = xs.i1[i];
        const wx = xs.w[i];
        const c00 = src[r00 + x0] * (1 - wx) + src[r00 + x1] * wx;
        const c01 = src[r01 + x0] * (1 - wx) + src[r01 + x1] * wx;
        const c10 = src[r10 + x0] * (1 - wx) + src[r10 + x1] * wx;
        const c11 = src[r11 + x0] * (1 - wx) + src[r11 + x1] * wx;
        const c0 = c00 * (1 - wy) + c01 * wy;
        const c1 = c10 * (1 - wy) + c11 * wy;
        out[o++] = c0 * (1 - wz) + c1 * wz;
      }
    }
  }
  return out;
}

/** Input index nearest to each output index (j * ratio rounded half up, clamped). */
export function nearestIndices(nIn: number, start: number, count: number, ratio: number): Int32Array {
  const idx = new Int32Array(count);
  for (let j = 0; j < count; j++) idx[j] = Math.min(Math.max(Math.floor((start + j) * ratio + 0.5), 0), nIn - 1);
  return idx;
}

/** Nearest-neighbour resampling (labels) of the output box [start, start + size). */
export function resampleNearest(src: Uint8Array, ...box: ResampleBox): Uint8Array {
  const [[, ny, nx], , , , size] = box;
  const [zi, yi, xi] = perAxis(nearestIndices, box);
  const out = new Uint8Array(size[0] * size[1] * size[2]);
  let o = 0;
  for (let k = 0; k < size[0]; k++) {
    for (let j = 0; j < size[1]; j++) {
      const row = (zi[k] * ny + yi[j]) * nx;
      for (let i = 0; i < size[2]; i++) out[o++] = src[row + xi[i]];
    }
  }
  return out;
}
