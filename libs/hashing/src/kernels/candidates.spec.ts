import { keepNearest, nearestInOrder } from './candidates.js';

describe('candidate buffer', () => {
  it('keepNearest keeps the k nearest in position order, the earliest of the ties at the k-th distance', () => {
    const indices = Int32Array.from([10, 11, 12, 13, 14, 15, 16, 17]);
    const distances = Uint8Array.from([5, 3, 7, 3, 5, 1, 5, 0]);
    // k = 5: 0, 1, 3, 3 and the first of the three 5s.
    expect(keepNearest(indices, distances, 8, 5, 64)).toBe(5);
    expect(Array.from(indices.subarray(0, 5))).toEqual([10, 11, 13, 15, 17]);
    expect(Array.from(distances.subarray(0, 5))).toEqual([5, 3, 3, 1, 0]);
  });

  it('keepNearest returns 0 when k candidates are exact matches, and refuses fewer than k', () => {
    const indices = Int32Array.from([1, 2, 3, 4]);
    const distances = Uint16Array.from([0, 9, 0, 0]);
    expect(keepNearest(indices, distances, 4, 2, 9)).toBe(0);
    expect(Array.from(indices.subarray(0, 2))).toEqual([1, 3]);
    expect(() => keepNearest(indices, distances, 1, 2, 9)).toThrow('at least k');
  });

  it('nearestInOrder sorts by distance, then position, and cuts at k', () => {
    const indices = Int32Array.from([2, 4, 6, 8, 9]);
    const distances = Uint8Array.from([4, 1, 4, 0, 1]);
    const top = nearestInOrder(indices, distances, 5, 4, 64);
    expect(Array.from(top.indices)).toEqual([8, 4, 9, 2]);
    expect(Array.from(top.distances)).toEqual([0, 1, 1, 4]);
    expect(nearestInOrder(indices, distances, 2, 10, 64).indices.length).toBe(2);
  });
});
