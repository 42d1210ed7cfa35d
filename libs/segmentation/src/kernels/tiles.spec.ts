import { tileStarts, tileStartsCovering } from './tiles.js';

describe('tileStarts', () => {
  it('steps by the stride with the last tile flush with the end', () => {
    expect(tileStarts(10, 4, 3)).toEqual([0, 3, 6]);
    expect(tileStarts(11, 4, 3)).toEqual([0, 3, 6, 7]);
    expect(tileStarts(3, 4, 3)).toEqual([0]);
  });
});

describe('tileStartsCovering', () => {
  // Every (length, patch, stride, lo, hi) of a small range, checked against what the grid promises.
  const cases: [number, number, number, number, number][] = [];
  for (let length = 1; length <= 20; length++)
    for (let patch = 2; patch <= 8; patch += 3)
      for (let stride = 1; stride <= patch; stride += 2)
        for (let lo = 0; lo < length; lo++) for (let hi = lo + 1; hi <= length; hi++) cases.push([length, patch, stride, lo, hi]);

  it.each([[cases.length]])('covers the region, stays in the volume and needs no more tiles than the region size does (%i cases)', () => {
    for (const [length, patch, stride, lo, hi] of cases) {
      const starts = tileStartsCovering(length, patch, stride, lo, hi);
      const covered = (i: number) => starts.some((s) => s <= i && i < s + patch);
      for (let i = lo; i < hi; i++) expect(covered(i)).toBe(true);
      if (length <= patch) {
        expect(starts).toEqual([0]);
        continue;
      }
      for (const s of starts) expect(s >= 0 && s + patch <= length).toBe(true);
      expect(starts.length).toBe(tileStarts(Math.max(hi - lo, patch), patch, stride).length);
      for (let k = 1; k < starts.length; k++) expect(starts[k] - starts[k - 1]).toBeGreaterThan(0);
      for (let k = 1; k < starts.length; k++) expect(starts[k] - starts[k - 1]).toBeLessThanOrEqual(stride);
    }
  });

  it('anchors the grid on the region, not on the volume', () => {
    // A 10-voxel region at 37 in a 100-voxel axis: 2 tiles of 8 (stride 4 → 37, 39), not the volume grid's 3 (36, 40, 44).
    expect(tileStartsCovering(100, 8, 4, 37, 47)).toEqual([37, 39]);
    expect(tileStarts(100, 8, 4).filter((s) => s + 8 > 37 && s < 47)).toEqual([32, 36, 40, 44]);
    // Near the end it shifts back inside the volume.
    expect(tileStartsCovering(100, 8, 4, 97, 100)).toEqual([92]);
  });
});
