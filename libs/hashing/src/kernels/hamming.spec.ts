import { bytesToWords, codeBytes, codeWords } from './codes.js';
import { type TopKQuery, hammingDistances, hammingDistancesSwar, hammingTopK, hammingTopKMany } from './hamming.js';

/** Deterministic pseudo-random bytes (xorshift32) so a failure can be replayed. */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

/** Random packed codes of `bits` bits; `alphabet` > 0 restricts them to that many distinct codes (heavy ties). */
function randomCodes(count: number, bits: number, seed: number, alphabet = 0): { bytes: Uint8Array[]; words: Uint32Array } {
  const nb = codeBytes(bits);
  const spare = nb * 8 - bits;
  const pool = Array.from({ length: alphabet || count }, (_, i) => {
    const code = randomBytes(nb, seed * 7919 + i + 1);
    if (spare) code[nb - 1] &= 0xff << spare;
    return code;
  });
  const bytes = Array.from({ length: count }, (_, i) => pool[alphabet ? randomBytes(1, seed + i * 31 + 7)[0] % alphabet : i]);
  const words = new Uint32Array(count * codeWords(bits));
  bytes.forEach((code, i) => bytesToWords(code, bits, words, i * codeWords(bits)));
  return { bytes, words };
}

function naiveDistance(a: Uint8Array, b: Uint8Array, bits: number): number {
  let d = 0;
  for (let i = 0; i < bits; i++) d += ((a[i >> 3] >> (7 - (i & 7))) & 1) ^ ((b[i >> 3] >> (7 - (i & 7))) & 1);
  return d;
}

/** Reference: every distance bit by bit, stable sort by distance, then filter and cut. */
function naiveTopK(db: Uint8Array[], query: Uint8Array, bits: number, k: number, maxDistance: number, include: Uint8Array | null) {
  const all = db.map((code, index) => ({ index, distance: naiveDistance(code, query, bits) }));
  const kept = all.filter((e) => e.distance <= maxDistance && (!include || include[e.index] !== 0));
  kept.sort((a, b) => a.distance - b.distance || a.index - b.index);
  return kept.slice(0, k);
}

function asPairs(result: { indices: Int32Array; distances: Uint16Array }) {
  return [...result.indices].map((index, i) => ({ index, distance: result.distances[i] }));
}

describe('Hamming distances', () => {
  it.each([8, 32, 48, 64, 100, 256])('match a bit-by-bit reference at %i bits (table and SWAR popcount)', (bits) => {
    const { bytes, words } = randomCodes(300, bits, bits);
    const query = randomCodes(1, bits, 999 + bits);
    const table = hammingDistances(words, codeWords(bits), 300, query.words);
    const swar = hammingDistancesSwar(words, codeWords(bits), 300, query.words);
    bytes.forEach((code, i) => {
      const expected = naiveDistance(code, query.bytes[0], bits);
      expect(table[i]).toBe(expected);
      expect(swar[i]).toBe(expected);
    });
  });
});

describe('Hamming top-k', () => {
  const cases: [number, number, number, number, number][] = [
    // bits, count, k, maxDistance, alphabet (0 = all distinct)
    [64, 5000, 10, 64, 0],
    [64, 5000, 1, 64, 0],
    [64, 5000, 5000, 64, 0],
    [64, 5000, 7000, 64, 0],
    [64, 5000, 100, 24, 0],
    [64, 5000, 50, 0, 12],
    [48, 9000, 2500, 48, 0],
    [48, 3000, 40, 48, 20],
    [32, 4000, 300, 32, 0],
    [8, 6000, 700, 8, 0],
    [100, 2000, 64, 100, 0],
    [256, 1500, 33, 256, 0],
    [64, 20000, 3000, 64, 50],
  ];

  it.each(cases)('matches the reference at %i bits, %i codes, k=%i, maxDistance=%i, %i distinct codes', (bits, count, k, maxDistance, alphabet) => {
    const db = randomCodes(count, bits, count + bits + alphabet, alphabet);
    const queries = randomCodes(3, bits, 4242 + bits);
    // The first query is a code of the database itself (distance 0 present, ties when alphabet > 0).
    const queryBytes = [db.bytes[count >> 1], queries.bytes[1], queries.bytes[2]];
    for (const q of queryBytes) {
      const got = hammingTopK(db.words, codeWords(bits), count, bits, bytesToWords(q, bits), k, maxDistance);
      expect(asPairs(got)).toEqual(naiveTopK(db.bytes, q, bits, k, maxDistance, null));
    }
  });

  it('skips positions excluded by the include mask (deleted or filtered out)', () => {
    const bits = 64;
    const db = randomCodes(8000, bits, 77, 30);
    const include = randomBytes(8000, 5).map((b) => (b < 100 ? 0 : 1));
    const q = db.bytes[17];
    const got = hammingTopK(db.words, 2, 8000, bits, bytesToWords(q, bits), 200, bits, include);
    expect(asPairs(got)).toEqual(naiveTopK(db.bytes, q, bits, 200, bits, include));
    expect([...got.indices].every((i) => include[i] === 1)).toBe(true);
  });

  it('answers many queries in one pass exactly as one at a time', () => {
    const bits = 48;
    const db = randomCodes(10_000, bits, 3, 0);
    const qs = randomCodes(9, bits, 11);
    const specs: TopKQuery[] = qs.bytes.map((_, i) => ({ k: [1, 10, 100, 1000, 10_000, 5, 50, 500, 20][i], maxDistance: [48, 48, 20, 48, 48, 10, 48, 18, 0][i] }));
    const many = hammingTopKMany(db.words, 2, 10_000, bits, qs.words, specs);
    qs.bytes.forEach((q, i) => {
      expect(asPairs(many[i])).toEqual(naiveTopK(db.bytes, q, bits, specs[i].k, specs[i].maxDistance, null));
    });
  });

  it('handles an empty database and rejects invalid arguments', () => {
    const empty = hammingTopK(new Uint32Array(0), 2, 0, 64, new Uint32Array(2), 10);
    expect(empty.indices.length).toBe(0);
    expect(() => hammingTopK(new Uint32Array(0), 2, 0, 64, new Uint32Array(2), 0)).toThrow('k must be');
    expect(() => hammingTopK(new Uint32Array(0), 2, 0, 64, new Uint32Array(2), 5, -1)).toThrow('maxDistance');
    expect(() => hammingTopK(new Uint32Array(0), 3, 0, 64, new Uint32Array(3), 5)).toThrow('wordsPerCode');
  });
});
