/** Brute-force Hamming references and random codes for the hashing kernels' unit tests. */
import { bytesToWords, codeBytes, codeWords } from '../../libs/hashing/src/kernels/codes.js';

/** Deterministic pseudo-random bytes (xorshift32) so a failure can be replayed. */
export function randomBytes(n: number, seed: number): Uint8Array {
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
export function randomCodes(count: number, bits: number, seed: number, alphabet = 0): { bytes: Uint8Array[]; words: Uint32Array } {
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

export function naiveDistance(a: Uint8Array, b: Uint8Array, bits: number): number {
  let d = 0;
  for (let i = 0; i < bits; i++) d += ((a[i >> 3] >> (7 - (i & 7))) & 1) ^ ((b[i >> 3] >> (7 - (i & 7))) & 1);
  return d;
}

/** Reference: every distance bit by bit, stable sort by distance, then filter and cut. */
export function naiveTopK(db: Uint8Array[], query: Uint8Array, bits: number, k: number, maxDistance: number, include: Uint8Array | null) {
  const all = db.map((code, index) => ({ index, distance: naiveDistance(code, query, bits) }));
  const kept = all.filter((e) => e.distance <= maxDistance && (!include || include[e.index] !== 0));
  kept.sort((a, b) => a.distance - b.distance || a.index - b.index);
  return kept.slice(0, k);
}

export function asPairs(result: { indices: Int32Array; distances: Uint16Array }) {
  return [...result.indices].map((index, i) => ({ index, distance: result.distances[i] }));
}

/**
 * Top-k cases both kernels must answer like brute force: [bits, count, k, maxDistance,
 * alphabet (0 = all distinct)]. Odd counts leave tails after the WebAssembly scan's eight-code
 * steps; counts far above 2k make the candidate buffer refill; small alphabets make heavy ties.
 */
export const TOP_K_CASES: [number, number, number, number, number][] = [
  [64, 1, 10, 64, 0],
  [64, 7, 3, 64, 0],
  [64, 9, 20, 64, 0],
  [64, 5003, 10, 64, 0],
  [64, 5003, 1, 64, 0],
  [64, 5003, 700, 64, 0],
  [64, 5003, 5003, 64, 0],
  [64, 5003, 9000, 64, 0],
  [64, 5003, 100, 22, 0],
  [64, 5003, 50, 0, 12],
  [64, 20011, 10, 64, 40],
  [64, 20011, 3000, 64, 50],
  [48, 9001, 2500, 48, 0],
  [48, 3001, 40, 48, 20],
  [32, 4001, 300, 32, 0],
  [16, 6007, 700, 16, 0],
  [8, 6000, 700, 8, 0],
  [100, 2000, 64, 100, 0],
  [256, 1500, 33, 256, 0],
];

/** The queries of a case: a code of the database itself (distance 0 present, ties when alphabet > 0) and two random ones. */
export function caseQueries(db: Uint8Array[], bits: number): Uint8Array[] {
  return [db[db.length >> 1], ...randomCodes(2, bits, 4242 + bits).bytes];
}
