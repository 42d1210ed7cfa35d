import type { NumericArray, Shape3 } from './grid.js';

/**
 * For each index axis of a stored volume (0 = i, fastest), which canonical LPS axis it runs
 * along (0 = x toward Left, 1 = y toward Posterior, 2 = z toward Superior) and in which
 * direction. Canonical arrays have i → L, j → P, k → S, like ITK's identity direction.
 */
export type AxisMap = { axis: [number, number, number]; flip: [boolean, boolean, boolean] };

/**
 * Reads the closest canonical axis of each index axis from an ITK direction matrix (row-major,
 * column c = physical direction of index axis c, LPS). Oblique scans snap to the nearest axis,
 * as nibabel's as_closest_canonical does; the voxels are permuted, never interpolated, so the
 * mapping back to the input grid is exact.
 */
export function axisMapFromDirection(direction: ArrayLike<number>): AxisMap {
  const axis: number[] = [];
  const flip: boolean[] = [];
  for (let c = 0; c < 3; c++) {
    const column = [direction[c], direction[3 + c], direction[6 + c]];
    let best = 0;
    for (let r = 1; r < 3; r++) if (Math.abs(column[r]) > Math.abs(column[best])) best = r;
    axis.push(best);
    flip.push(column[best] < 0);
  }
  if (new Set(axis).size !== 3) throw new Error('direction matrix is degenerate: two index axes run along the same patient axis');
  return { axis: axis as AxisMap['axis'], flip: flip as AxisMap['flip'] };
}

/** Index-axis sizes [ni, nj, nk] → canonical array shape [nz, ny, nx]. */
export function canonicalShape(size: [number, number, number], map: AxisMap): Shape3 {
  const xyz: number[] = [0, 0, 0];
  for (let c = 0; c < 3; c++) xyz[map.axis[c]] = size[c];
  return [xyz[2], xyz[1], xyz[0]];
}

/** Per index axis: the canonical stride and starting offset of its first voxel. */
function strides(size: [number, number, number], map: AxisMap) {
  const cshape = canonicalShape(size, map);
  const canonicalStride = [1, cshape[2], cshape[2] * cshape[1]]; // x, y, z
  const step: number[] = [];
  let base = 0;
  for (let c = 0; c < 3; c++) {
    const s = canonicalStride[map.axis[c]];
    if (map.flip[c]) {
      step.push(-s);
      base += (size[c] - 1) * s;
    } else step.push(s);
  }
  return { step, base, cshape };
}

/** Copies a stored volume (index order i fastest) into canonical LPS order. */
export function toCanonical<T extends NumericArray>(data: T, size: [number, number, number], map: AxisMap): { data: T; shape: Shape3 } {
  const { step, base, cshape } = strides(size, map);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  let n = 0;
  for (let k = 0; k < size[2]; k++) {
    for (let j = 0; j < size[1]; j++) {
      let t = base + k * step[2] + j * step[1];
      for (let i = 0; i < size[0]; i++, t += step[0]) out[t] = data[n++];
    }
  }
  return { data: out, shape: cshape };
}

/** The inverse of toCanonical: canonical data back into the stored volume's index order. */
export function fromCanonical<T extends NumericArray>(canonical: T, size: [number, number, number], map: AxisMap): T {
  const { step, base } = strides(size, map);
  const out = new (canonical.constructor as new (n: number) => T)(canonical.length);
  let n = 0;
  for (let k = 0; k < size[2]; k++) {
    for (let j = 0; j < size[1]; j++) {
      let t = base + k * step[2] + j * step[1];
      for (let i = 0; i < size[0]; i++, t += step[0]) out[n++] = canonical[t];
    }
  }
  return out;
}

/** Spacing per canonical axis, as [sz, sy, sx] to match canonical shapes. */
export function canonicalSpacing(spacing: ArrayLike<number>, map: AxisMap): Shape3 {
  const xyz: number[] = [0, 0, 0];
  for (let c = 0; c < 3; c++) xyz[map.axis[c]] = spacing[c];
  return [xyz[2], xyz[1], xyz[0]];
}
