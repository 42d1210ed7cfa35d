import { packCandidates, rowValues } from './pack-candidates.js';

describe('packCandidates', () => {
  it('pads shorter candidates with index 0 and mask 0 up to the longest', () => {
    const packed = packCandidates([[5, 7, 9], [3, 4]]);
    expect(packed.batch).toBe(2);
    expect(packed.size).toBe(3);
    expect(Array.from(packed.index, Number)).toEqual([5, 7, 9, 3, 4, 0]);
    expect(Array.from(packed.mask)).toEqual([1, 1, 1, 1, 1, 0]);
  });

  it('pads to an explicit size and refuses one smaller than a candidate', () => {
    const packed = packCandidates([Int32Array.of(1, 2)], 4);
    expect(Array.from(packed.index, Number)).toEqual([1, 2, 0, 0]);
    expect(Array.from(packed.mask)).toEqual([1, 1, 0, 0]);
    expect(() => packCandidates([[1, 2, 3]], 2)).toThrow('smaller than the longest');
  });

  it('keeps node index 0 distinguishable from padding through the mask', () => {
    const packed = packCandidates([[0, 1], [2]]);
    expect(Array.from(packed.index, Number)).toEqual([0, 1, 2, 0]);
    expect(Array.from(packed.mask)).toEqual([1, 1, 1, 0]);
  });

  it('rejects negative and fractional indices, and packs an empty batch', () => {
    expect(() => packCandidates([[1, -1]])).toThrow('candidate 0, slot 1');
    expect(() => packCandidates([[1.5, 2]])).toThrow('not a node index');
    expect(packCandidates([])).toMatchObject({ batch: 0, size: 0 });
  });

  it('reads a row of a [batch, size] output back without its padding', () => {
    const values = Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0);
    expect(rowValues(values, 3, 1, 2)).toEqual([Math.fround(0.4), Math.fround(0.5)]);
  });
});
