import { TOP_K_CASES, asPairs, caseQueries, naiveTopK, randomBytes, randomCodes } from '../../../../test/support/hamming-reference.js';
import { bytesToWords, codeWords } from './codes.js';
import { type TopKQuery, hammingTopK, hammingTopKMany } from './hamming.js';

describe('Hamming top-k', () => {
  it.each(TOP_K_CASES)('matches brute force at %i bits, %i codes, k=%i, maxDistance=%i, %i distinct codes', (bits, count, k, maxDistance, alphabet) => {
    const db = randomCodes(count, bits, count + bits + alphabet, alphabet);
    for (const q of caseQueries(db.bytes, bits)) {
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
