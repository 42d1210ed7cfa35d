/**
 * Population count of a 32-bit word with the SWAR bit trick (no table, no Math.clz32):
 * pairs, nibbles, bytes, then one multiply sums the four byte counts into the top byte.
 */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Bit counts of every 16-bit value: the table alternative to `popcount32`. */
export const POPCOUNT16: Uint8Array = (() => {
  const table = new Uint8Array(1 << 16);
  for (let i = 1; i < table.length; i++) table[i] = (i & 1) + table[i >>> 1];
  return table;
})();

/** Population count of a 32-bit word through two lookups in `POPCOUNT16`. */
export function popcount32Table(x: number): number {
  return POPCOUNT16[x & 0xffff] + POPCOUNT16[x >>> 16];
}
