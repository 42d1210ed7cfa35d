import { decodeEvalRows } from './eval-rows.js';

function bytesOf(values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => view.setInt32(i * 4, v, true));
  return new Uint8Array(view.buffer);
}

describe('decodeEvalRows', () => {
  it('splits little-endian int32 rows into per-type ids and labels', () => {
    const rows = decodeEvalRows(bytesOf([86, 4, 4, 1, 86, 4, 0, 0]), 3);
    expect(rows.rows).toBe(2);
    expect(Array.from(rows.ids)).toEqual([86, 4, 4, 86, 4, 0]);
    expect(Array.from(rows.labels)).toEqual([1, 0]);
  });

  it('reads from an unaligned view into a larger buffer', () => {
    const inner = bytesOf([1, 2, 3, 0]);
    const outer = new Uint8Array(inner.length + 1);
    outer.set(inner, 1);
    expect(Array.from(decodeEvalRows(outer.subarray(1), 3).ids)).toEqual([1, 2, 3]);
  });

  it('refuses partial rows and labels other than 0 or 1', () => {
    expect(() => decodeEvalRows(bytesOf([1, 2, 3]), 3)).toThrow('whole number');
    expect(() => decodeEvalRows(bytesOf([1, 2, 3, 7]), 3)).toThrow('row 0: label 7');
  });
});
