/** Bit counts of every 16-bit value: two lookups count a 32-bit word (the JavaScript kernel). */
export const POPCOUNT16: Uint8Array = (() => {
  const table = new Uint8Array(1 << 16);
  for (let i = 1; i < table.length; i++) table[i] = (i & 1) + table[i >>> 1];
  return table;
})();
