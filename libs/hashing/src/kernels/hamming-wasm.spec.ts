import { hammingTopK } from './hamming.js';
import { WasmHammingScanner } from './hamming-wasm.js';

function random(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

describe('WasmHammingScanner', () => {
  it('gives exactly the JavaScript kernel’s top-k (distances, tie order) on random codes', () => {
    const next = random(11);
    for (const [count, bits] of [[5000, 64], [3000, 48], [17, 64]] as const) {
      const scanner = new WasmHammingScanner(count, 64);
      const codes = scanner.codes();
      for (let i = 0; i < count * 2; i++) codes[i] = next();
      // 48-bit codes keep their high 16 bits zero, as bytesToWords packs them.
      if (bits === 48) for (let i = 0; i < count; i++) codes[i * 2 + 1] &= 0xffff;
      // Duplicates make ties.
      for (let i = 10; i < Math.min(count, 40); i++) codes.copyWithin(i * 2, 0, 2);
      const reference = Uint32Array.from(codes);
      for (const [k, maxDistance] of [[10, bits], [100, bits], [7, 20], [count + 5, bits], [1000, 22], [count + 5, 26]] as const) {
        const query = Uint32Array.from([next(), bits === 48 ? next() & 0xffff : next()]);
        const wasm = scanner.topK(count, query, 0, k, maxDistance);
        const js = hammingTopK(reference, 2, count, bits, query, k, maxDistance);
        expect(Array.from(wasm.indices)).toEqual(Array.from(js.indices));
        expect(Array.from(wasm.distances)).toEqual(Array.from(js.distances));
      }
    }
  });

  it('returns every code within maxDistance when fewer than k are, those exactly at it included', () => {
    const scanner = new WasmHammingScanner(5, 8);
    // distances from 0: 1, 2, 2, 3, 5
    scanner.codes().set([1, 0, 3, 0, 5, 0, 7, 0, 31, 0]);
    const result = scanner.topK(5, Uint32Array.from([0, 0]), 0, 100, 2);
    expect(Array.from(result.indices)).toEqual([0, 1, 2]);
    expect(Array.from(result.distances)).toEqual([1, 2, 2]);
    expect(Array.from(scanner.topK(5, Uint32Array.from([0, 0]), 0, 2, 2).indices)).toEqual([0, 1]);
  });

  it('leaves out codes whose include byte is 0 and survives growing', () => {
    const scanner = new WasmHammingScanner(4, 4);
    scanner.codes().set([0, 0, 1, 0, 3, 0, 7, 0]);
    scanner.reserve(1000, 16);
    expect(Array.from(scanner.codes().subarray(0, 8))).toEqual([0, 0, 1, 0, 3, 0, 7, 0]);
    const include = Uint8Array.from([0, 1, 1, 1]);
    const result = scanner.topK(4, Uint32Array.from([0, 0]), 0, 2, 64, include);
    expect(Array.from(result.indices)).toEqual([1, 2]);
    expect(Array.from(result.distances)).toEqual([1, 2]);
  });
});
