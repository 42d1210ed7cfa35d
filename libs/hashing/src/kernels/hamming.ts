import { type TopK, candidateSlots, keepNearest, nearestInOrder } from './candidates.js';
import { POPCOUNT16 } from './popcount.js';

/**
 * Exact Hamming search over packed binary codes, in JavaScript: the kernel for codes longer than
 * 64 bits (codes of up to 64 bits are scanned in WebAssembly, hamming-wasm.ts).
 *
 * `codes` holds `count` codes of `wordsPerCode` 32-bit words each, back to back (see codes.ts).
 * Results are ordered by distance ascending, then by position ascending: positions are kept in
 * insertion order by the caller, so ties come back oldest first and every answer is
 * deterministic. `include` (optional, one byte per position) excludes positions holding 0:
 * deleted entries and metadata-filter misses.
 *
 * Popcount: a 16-bit lookup table, which measured faster than the SWAR bit trick in V8.
 */

export type { TopK };

export type TopKQuery = { k: number; maxDistance: number };

/** Codes scanned per block: one block stays in cache while every query of a batch passes over it. */
const BLOCK = 4096;

/**
 * Candidates of one query: positions within the current distance bound, in position order.
 * When the buffer fills, keepNearest keeps the k nearest and the bound drops below the k-th
 * distance, so memory stays O(k) while the scan stays a single pass.
 */
class Selection {
  readonly indices: Int32Array;
  readonly distances: Uint16Array;
  size = 0;
  bound: number;
  private readonly maxDistance: number;

  constructor(
    readonly k: number,
    maxDistance: number,
    bits: number,
    count: number,
  ) {
    this.maxDistance = this.bound = Math.min(maxDistance, bits);
    // A database no larger than the buffer fits whole: it fills, if at all, at the last code.
    const capacity = Math.max(1, Math.min(count, candidateSlots(k)));
    this.indices = new Int32Array(capacity);
    this.distances = new Uint16Array(capacity);
  }

  /** Called when the buffer is full. */
  makeRoom(): void {
    if (this.size <= this.k) return;
    this.bound = keepNearest(this.indices, this.distances, this.size, this.k, this.maxDistance) - 1;
    this.size = this.k;
  }

  finish(): TopK {
    return nearestInOrder(this.indices, this.distances, this.size, this.k, this.maxDistance);
  }
}

// A candidate is kept when d <= bound; a full buffer lowers the bound (Selection.makeRoom). The
// bound and buffers are hoisted into locals, so the loop touches `sel` only when it fills.

function scan(codes: Uint32Array, wordsPerCode: number, start: number, end: number, queries: Uint32Array, qb: number, sel: Selection, include: Uint8Array | null): void {
  const T = POPCOUNT16;
  let bound = sel.bound;
  const indices = sel.indices;
  const distances = sel.distances;
  let size = sel.size;
  for (let i = start, j = start * wordsPerCode; i < end; i++, j += wordsPerCode) {
    let d = 0;
    // Stop adding words once the code is already too far.
    for (let w = 0; w < wordsPerCode && d <= bound; w++) {
      const x = codes[j + w] ^ queries[qb + w];
      d += T[x & 0xffff] + T[x >>> 16];
    }
    if (d > bound) continue;
    if (include !== null && include[i] === 0) continue;
    indices[size] = i;
    distances[size++] = d;
    if (size === indices.length) {
      sel.size = size;
      sel.makeRoom();
      bound = sel.bound;
      size = sel.size;
    }
  }
  sel.size = size;
}

/**
 * Top-k nearest codes for several queries in one pass over the codes: the codes are read block
 * by block and every query scans a block while it is in cache. `queries` holds the queries'
 * words back to back (`queryCount * wordsPerCode`); each query has its own k and maxDistance.
 */
export function hammingTopKMany(
  codes: Uint32Array,
  wordsPerCode: number,
  count: number,
  bits: number,
  queries: Uint32Array,
  specs: TopKQuery[],
  include: Uint8Array | null = null,
): TopK[] {
  if (wordsPerCode !== ((bits + 31) >>> 5)) throw new Error(`wordsPerCode ${wordsPerCode} does not fit ${bits} bits`);
  if (queries.length < specs.length * wordsPerCode) throw new Error('queries hold fewer words than specs need');
  const selections = specs.map((s) => {
    if (!Number.isInteger(s.k) || s.k < 1) throw new Error(`k must be a positive integer, got ${s.k}`);
    if (!Number.isInteger(s.maxDistance) || s.maxDistance < 0) throw new Error(`maxDistance must be a non-negative integer, got ${s.maxDistance}`);
    return new Selection(s.k, s.maxDistance, bits, count);
  });
  for (let start = 0; start < count; start += BLOCK) {
    const end = Math.min(count, start + BLOCK);
    for (let q = 0; q < selections.length; q++) {
      const qb = q * wordsPerCode;
      scan(codes, wordsPerCode, start, end, queries, qb, selections[q], include);
    }
  }
  return selections.map((s) => s.finish());
}

/** Top-k nearest codes to one query (see hammingTopKMany). */
export function hammingTopK(
  codes: Uint32Array,
  wordsPerCode: number,
  count: number,
  bits: number,
  query: Uint32Array,
  k: number,
  maxDistance: number = bits,
  include: Uint8Array | null = null,
): TopK {
  return hammingTopKMany(codes, wordsPerCode, count, bits, query, [{ k, maxDistance }], include)[0];
}
