import type { Shape3 } from './grid.js';

/**
 * Squared Euclidean distance (in mm², anisotropic spacing [sz, sy, sx]) from every voxel to
 * the nearest voxel where `mask` is set; Infinity where the mask is empty. Exact, separable
 * (Felzenszwalb & Huttenlocher's lower envelope of parabolas along each axis).
 */
export function squaredDistanceTransform(mask: Uint8Array, shape: Shape3, spacing: Shape3): Float64Array {
  const [nz, ny, nx] = shape;
  const d = new Float64Array(mask.length);
  for (let i = 0; i < mask.length; i++) d[i] = mask[i] ? 0 : Number.POSITIVE_INFINITY;
  const longest = Math.max(nz, ny, nx);
  const f = new Float64Array(longest);
  const out = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  const pass = (count: number, stride: number, offsets: number[], step: number) => {
    const w2 = step * step;
    for (const base of offsets) {
      for (let q = 0; q < count; q++) f[q] = d[base + q * stride];
      let k = -1;
      for (let q = 0; q < count; q++) {
        if (f[q] === Number.POSITIVE_INFINITY) continue;
        let s = 0;
        while (k >= 0) {
          const p = v[k];
          s = (f[q] + w2 * q * q - (f[p] + w2 * p * p)) / (2 * w2 * (q - p));
          if (s <= z[k]) k--;
          else break;
        }
        k++;
        v[k] = q;
        z[k] = k === 0 ? Number.NEGATIVE_INFINITY : s;
        z[k + 1] = Number.POSITIVE_INFINITY;
      }
      if (k < 0) continue; // the whole line is infinitely far: leave it
      let j = 0;
      for (let q = 0; q < count; q++) {
        while (z[j + 1] < q) j++;
        const diff = q - v[j];
        out[q] = w2 * diff * diff + f[v[j]];
      }
      for (let q = 0; q < count; q++) d[base + q * stride] = out[q];
    }
  };
  const lines = (fixed: [number, number, number][]) => fixed.map(([a, b, c]) => a + b + c);
  const xLines: [number, number, number][] = [];
  for (let zz = 0; zz < nz; zz++) for (let yy = 0; yy < ny; yy++) xLines.push([zz * ny * nx, yy * nx, 0]);
  pass(nx, 1, lines(xLines), spacing[2]);
  const yLines: [number, number, number][] = [];
  for (let zz = 0; zz < nz; zz++) for (let xx = 0; xx < nx; xx++) yLines.push([zz * ny * nx, 0, xx]);
  pass(ny, nx, lines(yLines), spacing[1]);
  const zLines: [number, number, number][] = [];
  for (let yy = 0; yy < ny; yy++) for (let xx = 0; xx < nx; xx++) zLines.push([0, yy * nx, xx]);
  pass(nz, ny * nx, lines(zLines), spacing[0]);
  return d;
}

/** Voxels within `radiusMm` of the mask (a Euclidean ball dilation). */
export function dilateMm(mask: Uint8Array, shape: Shape3, spacing: Shape3, radiusMm: number): Uint8Array {
  const d = squaredDistanceTransform(mask, shape, spacing);
  const r2 = radiusMm * radiusMm;
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < d.length; i++) out[i] = d[i] <= r2 ? 1 : 0;
  return out;
}
