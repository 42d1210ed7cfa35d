import { popcount32, popcount32Table } from './popcount.js';

function naivePopcount(x: number): number {
  let n = 0;
  for (let b = 0; b < 32; b++) n += (x >>> b) & 1;
  return n;
}

describe('popcount', () => {
  it('agrees with a bit-by-bit count on edge and random words', () => {
    let seed = 12345;
    const words = [0, 1, 0x80000000, 0xffffffff, 0x55555555, 0xaaaaaaaa, 0x0f0f0f0f, 0x7fffffff];
    for (let i = 0; i < 5000; i++) words.push((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0));
    for (const w of words) {
      expect(popcount32(w)).toBe(naivePopcount(w));
      expect(popcount32Table(w)).toBe(naivePopcount(w));
    }
  });
});
