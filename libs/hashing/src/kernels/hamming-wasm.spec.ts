import { WASM_SOURCES, assembleWat } from '../../../../scripts/assemble-wasm.mjs';
import { TOP_K_CASES, asPairs, caseQueries, naiveTopK, randomBytes, randomCodes } from '../../../../test/support/hamming-reference.js';
import { bytesToWords } from './codes.js';
import { hammingTopK } from './hamming.js';
import { WASM_BASE64 } from './hamming-wasm.bytes.js';
import { WasmHammingScanner } from './hamming-wasm.js';

/** A scanner holding `db` (codes of up to 64 bits, two words each, the second 0 below 33 bits). */
function scannerWith(bits: number, db: Uint8Array[], maxK = 10, options: ConstructorParameters<typeof WasmHammingScanner>[2] = {}): WasmHammingScanner {
  const scanner = new WasmHammingScanner(db.length, maxK, options);
  const words = scanner.codes();
  db.forEach((code, i) => bytesToWords(code, bits, words, i * 2));
  return scanner;
}

function queryWords(code: Uint8Array, bits: number): Uint32Array {
  return bytesToWords(code, bits, new Uint32Array(2));
}

describe('hamming.wat', () => {
  it('assembles with wabt to exactly the embedded bytes (else run npm run build)', async () => {
    const source = WASM_SOURCES.find((s) => s.embedded.endsWith('hamming-wasm.bytes.ts'))!;
    const assembled = await assembleWat(source.wat);
    expect(Buffer.from(WASM_BASE64, 'base64').equals(Buffer.from(assembled))).toBe(true);
  });
});

describe('WasmHammingScanner', () => {
  it.each(TOP_K_CASES.filter(([bits]) => bits <= 64))('matches brute force at %i bits, %i codes, k=%i, maxDistance=%i, %i distinct codes', (bits, count, k, maxDistance, alphabet) => {
    const db = randomCodes(count, bits, count + bits + alphabet, alphabet);
    const scanner = scannerWith(bits, db.bytes);
    for (const q of caseQueries(db.bytes, bits)) {
      const got = scanner.topK(count, queryWords(q, bits), 0, k, maxDistance);
      expect(asPairs(got)).toEqual(naiveTopK(db.bytes, q, bits, k, maxDistance, null));
    }
  });

  it('gives exactly the JavaScript kernel’s answer (distances and tie order)', () => {
    const bits = 64;
    const db = randomCodes(8000, bits, 9, 300);
    const scanner = scannerWith(bits, db.bytes);
    for (const [k, maxDistance] of [[10, 64], [100, 64], [7, 20], [8005, 64], [1000, 26]]) {
      const query = queryWords(randomCodes(1, bits, k + maxDistance).bytes[0], bits);
      expect(asPairs(scanner.topK(8000, query, 0, k, maxDistance))).toEqual(asPairs(hammingTopK(db.words, 2, 8000, bits, query, k, maxDistance)));
    }
  });

  it('leaves out codes whose include byte is 0, inside eight-code steps and in the tail', () => {
    const bits = 64;
    const count = 8013;
    const db = randomCodes(count, bits, 77, 30);
    const include = randomBytes(count, 5).map((b) => (b < 100 ? 0 : 1));
    const scanner = scannerWith(bits, db.bytes);
    for (const [k, q] of [[200, db.bytes[17]], [5, db.bytes[count - 1]], [count, db.bytes[3]]] as const) {
      const got = scanner.topK(count, queryWords(q, bits), 0, k, bits, include);
      expect(asPairs(got)).toEqual(naiveTopK(db.bytes, q, bits, k, bits, include));
      expect([...got.indices].every((i) => include[i] === 1)).toBe(true);
    }
  });

  it('scans a range [start, end) per lane, resuming mid-step when the buffer fills, and the lanes together give the whole answer', () => {
    const bits = 64;
    const count = 12_345;
    const db = randomCodes(count, bits, 31, 0);
    const scanner = scannerWith(bits, db.bytes, 25, { lanes: 3 });
    const q = randomCodes(1, bits, 8).bytes[0];
    const query = queryWords(q, bits);
    const cuts = [0, 3, 5001, count];
    // maxDistance 30 leaves out about half the codes, so the buffer fills in the middle of a step.
    const parts = cuts.slice(1).map((end, lane) => scanner.topKRange(cuts[lane], end, query, 0, 25, 30, null, lane));
    parts.forEach((part, lane) => {
      const expected = naiveTopK(db.bytes.slice(cuts[lane], cuts[lane + 1]), q, bits, 25, 30, null).map((e) => ({ ...e, index: e.index + cuts[lane] }));
      expect(asPairs(part)).toEqual(expected);
    });
    const merged = parts.flatMap(asPairs).sort((a, b) => a.distance - b.distance || a.index - b.index).slice(0, 25);
    expect(merged).toEqual(naiveTopK(db.bytes, q, bits, 25, 30, null));
    // A second scanner on the same memory sees the same codes (what a worker thread does).
    const attached = new WasmHammingScanner(count, 25, { lanes: 3, memory: scanner.memory });
    expect(asPairs(attached.topKRange(3, 5001, query, 0, 25, 30, null, 1))).toEqual(asPairs(parts[1]));
    expect(() => attached.reserve(count * 2)).toThrow('cannot grow');
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

  it('keeps its codes when growing and refuses bad arguments', () => {
    const scanner = new WasmHammingScanner(4, 4);
    scanner.codes().set([0, 0, 1, 0, 3, 0, 7, 0]);
    scanner.reserve(100_000, 50_000);
    expect(Array.from(scanner.codes().subarray(0, 8))).toEqual([0, 0, 1, 0, 3, 0, 7, 0]);
    const result = scanner.topK(4, Uint32Array.from([0, 0]), 0, 2, 64, Uint8Array.from([0, 1, 1, 1]));
    expect(Array.from(result.indices)).toEqual([1, 2]);
    expect(Array.from(result.distances)).toEqual([1, 2]);
    expect(scanner.topK(0, Uint32Array.from([0, 0]), 0, 5, 64).indices.length).toBe(0);
    expect(() => scanner.topK(4, Uint32Array.from([0, 0]), 0, 0, 64)).toThrow('k must be');
    expect(() => scanner.topK(4, Uint32Array.from([0, 0]), 0, 5, -1)).toThrow('maxDistance');
    expect(() => scanner.topK(100_001, Uint32Array.from([0, 0]), 0, 5, 64)).toThrow('capacity');
  });
});
