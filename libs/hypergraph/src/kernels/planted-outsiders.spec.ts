import { argExtreme, hitRate, plantOutsiders } from './planted-outsiders.js';

const rows = (...r: number[][]) => Int32Array.from(r.flat());
const summary = (cases: ReturnType<typeof plantOutsiders>) => cases.map((c) => ({ ids: Array.from(c.ids), planted: c.planted, source: c.source }));

describe('plantOutsiders', () => {
  const known = rows([0, 0, 0], [1, 1, 1], [2, 0, 1], [3, 2, 0]);

  it('replaces the node of type n mod types by one that co-occurs with none of the others', () => {
    const positives = rows([0, 0, 0], [1, 1, 1], [3, 2, 0]);
    // Case 0: type-0 nodes 2 and 3 meet user-0's partners (rows [2,0,1] and [3,2,0]); 1 does not.
    // Case 1: type-1 node 0 meets tail 1 (row [2,0,1]); 2 does not. Case 2: type-2 node 1 is free.
    expect(summary(plantOutsiders(positives, known, [4, 3, 2], 10))).toEqual([
      { ids: [1, 0, 0], planted: 0, source: 0 },
      { ids: [1, 2, 1], planted: 1, source: 1 },
      { ids: [3, 2, 1], planted: 2, source: 2 },
    ]);
    expect(plantOutsiders(positives, known, [4, 3, 2], 2)).toHaveLength(2);
    // The input is left alone.
    expect(Array.from(positives)).toEqual([0, 0, 0, 1, 1, 1, 3, 2, 0]);
  });

  it('skips a hyperedge without a stranger, keeping the turn on the same type', () => {
    expect(plantOutsiders(rows([0, 0], [1, 1]), rows([0, 0], [1, 0], [0, 1]), [2, 2], 5)).toEqual([]);
    const cases = plantOutsiders(rows([0, 0], [1, 1], [0, 1]), rows([0, 0], [1, 0]), [2, 2], 5);
    // Source 0 has no stranger for type 0 (1 meets type-1 node 0); source 1's turn is still type 0.
    // Source 2's turn is type 1, whose only other node meets type-0 node 0: skipped too.
    expect(summary(cases)).toEqual([{ ids: [0, 1], planted: 0, source: 1 }]);
  });

  it('picks stranger number (source × 7919) mod their count', () => {
    const cases = plantOutsiders(rows([0, 0], [1, 0], [2, 1]), rows([0, 0]), [5, 2], 3);
    // Source 2, type 0: strangers of type-1 node 1 are 0, 1, 3, 4; 15838 mod 4 = 2 -> node 3.
    expect(summary(cases)).toEqual([
      { ids: [1, 0], planted: 0, source: 0 },
      { ids: [1, 1], planted: 1, source: 1 },
      { ids: [3, 1], planted: 0, source: 2 },
    ]);
  });

  it('refuses ids out of range and ragged rows', () => {
    expect(() => plantOutsiders(rows([0, 5]), rows([0, 0]), [2, 2], 1)).toThrow('id 5 is out of range for type 1 (0..1)');
    expect(() => plantOutsiders(Int32Array.of(0, 1, 2), rows([0, 0]), [2, 2], 1)).toThrow('whole rows of 2 types');
    expect(() => plantOutsiders(rows([0]), rows([0]), [2], 1)).toThrow('at least two node types');
  });
});

describe('hitRate and argExtreme', () => {
  it('counts answers equal to the planted position', () => {
    expect(hitRate([0, 1, 2, 2], [0, 1, 1, 2])).toBe(0.75);
    expect(() => hitRate([0], [0, 1])).toThrow('1 answers for 2 cases');
  });

  it('finds the first largest or smallest value', () => {
    expect(argExtreme([0.2, 0.9, 0.9, 0.1], true)).toBe(1);
    expect(argExtreme([0.2, 0.9, 0.1, 0.1], false)).toBe(2);
    expect(() => argExtreme([], true)).toThrow('no values');
  });
});
