import { averagePrecisionAsRanked, averagePrecisionTieAveraged } from './retrieval-metrics.js';

/** Every permutation of 0..n-1 (n ≤ 7 here). */
function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

function rng(seed: number): () => number {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

describe('averagePrecisionAsRanked', () => {
  it('is the mean precision at the relevant ranks', () => {
    // relevant at ranks 1, 3: (1/1 + 2/3) / 2
    expect(averagePrecisionAsRanked([true, false, true, false], 2)).toBeCloseTo((1 + 2 / 3) / 2, 12);
    // relevant items the list does not reach count as 0
    expect(averagePrecisionAsRanked([false, true], 4)).toBeCloseTo(0.5 / 4, 12);
    expect(averagePrecisionAsRanked([false, false], 0)).toBe(0);
  });
});

describe('averagePrecisionTieAveraged', () => {
  it('equals the as-ranked AP averaged over every order of every tie group (exhaustive, random lists)', () => {
    const random = rng(7);
    for (let trial = 0; trial < 60; trial++) {
      const n = 2 + Math.floor(random() * 6); // 2..7 items
      const distances = Array.from({ length: n }, () => Math.floor(random() * 3)).sort((a, b) => a - b);
      const relevant = Array.from({ length: n }, () => random() < 0.5);
      const total = relevant.filter(Boolean).length + Math.floor(random() * 2); // sometimes one unreached
      // Brute force: every permutation of the whole list that keeps distances ascending is a
      // tie-break; all of them are equally likely.
      let sum = 0;
      let count = 0;
      for (const p of permutations(n)) {
        if (p.some((v, i) => i > 0 && distances[v] < distances[p[i - 1]])) continue;
        sum += averagePrecisionAsRanked(p.map((i) => relevant[i]), total);
        count++;
      }
      expect(averagePrecisionTieAveraged(distances, relevant, total)).toBeCloseTo(sum / count, 12);
    }
  });

  it('matches the as-ranked AP when there are no ties, and ignores the order inside a group', () => {
    expect(averagePrecisionTieAveraged([0, 1, 2, 3], [true, false, true, false], 2)).toBeCloseTo(averagePrecisionAsRanked([true, false, true, false], 2), 12);
    const a = averagePrecisionTieAveraged([0, 0, 0, 1], [true, false, false, true], 2);
    const b = averagePrecisionTieAveraged([0, 0, 0, 1], [false, false, true, true], 2);
    expect(a).toBeCloseTo(b, 12);
    // one group of 4 with 2 relevant: the 6 placements give AP 1, 5/6, 3/4, 7/12, 1/2, 5/12 → 49/72
    expect(averagePrecisionTieAveraged([5, 5, 5, 5], [true, true, false, false], 2)).toBeCloseTo(49 / 72, 12);
  });

  it('refuses unsorted distances or mismatched lengths', () => {
    expect(() => averagePrecisionTieAveraged([1, 0], [true, false], 1)).toThrow(RangeError);
    expect(() => averagePrecisionTieAveraged([0, 1], [true], 1)).toThrow(RangeError);
  });
});
