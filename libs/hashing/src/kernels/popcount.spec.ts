import { POPCOUNT16 } from './popcount.js';

function naivePopcount(x: number): number {
  let n = 0;
  for (let b = 0; b < 16; b++) n += (x >>> b) & 1;
  return n;
}

describe('POPCOUNT16', () => {
  it('holds the bit count of every 16-bit value', () => {
    expect(POPCOUNT16.length).toBe(1 << 16);
    for (let x = 0; x < 1 << 16; x++) if (POPCOUNT16[x] !== naivePopcount(x)) expect([x, POPCOUNT16[x]]).toEqual([x, naivePopcount(x)]);
  });
});
