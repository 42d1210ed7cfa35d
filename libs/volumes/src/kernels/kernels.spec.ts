import { filterComponents, connectedComponents } from './components.js';
import { dilateMm, squaredDistanceTransform } from './distance.js';
import type { Shape3 } from './grid.js';
import { resampledShape } from './grid.js';
import { axisMapFromDirection, canonicalShape, canonicalSpacing, fromCanonical, toCanonical } from './orientation.js';
import { resampleLinear, resampleNearest } from './resample.js';
import { dice, labelStatistics } from './statistics.js';

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('orientation', () => {
  it('reads a PSR direction (row-major ITK matrix) as i→P, j→S, k→R', () => {
    const map = axisMapFromDirection([0, 0, -1, 1, 0, 0, 0, 1, 0]);
    expect(map).toEqual({ axis: [1, 2, 0], flip: [false, false, true] });
    expect(canonicalShape([80, 35, 91], map)).toEqual([35, 80, 91]);
    expect(canonicalSpacing([4, 3, 4], map)).toEqual([3, 4, 4]);
  });

  it('puts the stored voxel at the right canonical place and round-trips exactly', () => {
    const size: [number, number, number] = [4, 3, 2];
    const data = Int16Array.from({ length: 24 }, (_, i) => i);
    const ras = axisMapFromDirection([-1, 0, 0, 0, -1, 0, 0, 0, 1]);
    const { data: canonical, shape } = toCanonical(data, size, ras);
    expect(shape).toEqual([2, 3, 4]);
    // stored (i=0,j=0,k=0) is the most Right/Anterior voxel: canonical x = 3, y = 2.
    expect(canonical[(0 * 3 + 2) * 4 + 3]).toBe(0);
    expect(Array.from(fromCanonical(canonical, size, ras))).toEqual(Array.from(data));
    const psr = axisMapFromDirection([0, 0, -1, 1, 0, 0, 0, 1, 0]);
    const back = fromCanonical(toCanonical(data, size, psr).data, size, psr);
    expect(Array.from(back)).toEqual(Array.from(data));
  });

  it('refuses a degenerate direction', () => {
    expect(() => axisMapFromDirection([1, 1, 0, 0, 0, 0, 0, 0, 1])).toThrow(/degenerate/);
  });
});

describe('resampling', () => {
  it('keeps a volume unchanged at its own spacing', () => {
    const shape: Shape3 = [3, 4, 5];
    const data = Float32Array.from({ length: 60 }, (_, i) => i * 1.5);
    expect(Array.from(resampleLinear(data, shape, [2, 2, 2], [2, 2, 2], [0, 0, 0], shape))).toEqual(Array.from(data));
  });

  it('interpolates a linear ramp exactly and computes only the requested box', () => {
    const shape: Shape3 = [1, 1, 5];
    const ramp = Float32Array.from([0, 10, 20, 30, 40]);
    const out = resampleLinear(ramp, shape, [1, 1, 2], [1, 1, 1], [0, 0, 0], [1, 1, 9]);
    expect(Array.from(out)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40]);
    expect(Array.from(resampleLinear(ramp, shape, [1, 1, 2], [1, 1, 1], [0, 0, 3], [1, 1, 2]))).toEqual([15, 20]);
    expect(resampledShape([10, 10, 5], [1, 1, 2], [2, 2, 1])).toEqual([5, 5, 10]);
  });

  it('picks nearest labels, rounding half up', () => {
    const labels = Uint8Array.from([1, 2, 3]);
    expect(Array.from(resampleNearest(labels, [1, 1, 3], [1, 1, 2], [1, 1, 1], [0, 0, 0], [1, 1, 6]))).toEqual([1, 2, 2, 3, 3, 3]);
  });
});

describe('connected components', () => {
  it('keeps the largest component per label and components above a size', () => {
    const shape: Shape3 = [1, 3, 7];
    // label 1: blob of 3 at left, blob of 2 at right; label 2: one voxel.
    const labels = Uint8Array.from([1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(connectedComponents((i) => labels[i] === 1, shape).sizes).toEqual([0, 3, 2]);
    const largest = filterComponents(labels, shape, [1, 2]);
    expect(Array.from(largest)).toEqual([1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(filterComponents(labels, shape, [1, 2], 2))).toEqual(Array.from(labels));
  });

  it('does not join diagonal neighbours (6-connectivity)', () => {
    const labels = Uint8Array.from([1, 0, 0, 1]);
    expect(connectedComponents((i) => labels[i] === 1, [1, 2, 2]).sizes).toEqual([0, 1, 1]);
  });
});

describe('distance transform', () => {
  it('matches brute force with anisotropic spacing', () => {
    const rand = seeded(7);
    const shape: Shape3 = [5, 6, 7];
    const spacing: Shape3 = [2.5, 1, 0.7];
    const mask = Uint8Array.from({ length: 210 }, () => (rand() < 0.04 ? 1 : 0));
    mask[17] = 1;
    const d = squaredDistanceTransform(mask, shape, spacing);
    for (let v = 0; v < mask.length; v++) {
      const [z, y, x] = [Math.floor(v / 42), Math.floor(v / 7) % 6, v % 7];
      let best = Infinity;
      for (let u = 0; u < mask.length; u++) {
        if (!mask[u]) continue;
        const [zz, yy, xx] = [Math.floor(u / 42), Math.floor(u / 7) % 6, u % 7];
        best = Math.min(best, ((z - zz) * 2.5) ** 2 + (y - yy) ** 2 + ((x - xx) * 0.7) ** 2);
      }
      expect(d[v]).toBeCloseTo(best, 6);
    }
  });

  it('dilates by a Euclidean ball in mm', () => {
    const mask = new Uint8Array(11);
    mask[5] = 1;
    expect(Array.from(dilateMm(mask, [1, 1, 11], [1, 1, 2], 4))).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0]);
  });
});

describe('statistics', () => {
  it('computes volume, intensity, physical box and border contact', () => {
    const g = { size: [3, 2, 2] as [number, number, number], spacing: [2, 2, 5] as [number, number, number], origin: [10, 20, 30] as [number, number, number], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const labels = Uint8Array.from([0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    const image = Int16Array.from([0, 40, 0, 0, 60, 0, 0, 0, 0, 0, 0, 0]);
    const stats = labelStatistics(labels, image, g, [1, 2]);
    expect(stats.get(2)).toBeNull();
    expect(stats.get(1)).toEqual({
      voxels: 2,
      volumeMl: 0.04,
      meanHu: 50,
      stdHu: 10,
      boundingBoxMm: { min: [12, 20, 30], max: [12, 22, 30] },
      centroidMm: [12, 21, 30],
      touchesBorder: true,
    });
  });

  it('computes Dice with different label ids', () => {
    expect(dice(Uint8Array.from([1, 1, 0, 0]), 1, [5, 0, 5, 0], 5)).toBeCloseTo(0.5);
    expect(dice(Uint8Array.from([0, 0]), 1, [0, 0], 5)).toBeNull();
  });
});
