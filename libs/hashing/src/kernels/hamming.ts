import { POPCOUNT16, popcount32 } from './popcount.js';

/**
 * Exact Hamming search over packed binary codes.
 *
 * `codes` holds `count` codes of `wordsPerCode` 32-bit words each, back to back (see codes.ts).
 * Results are ordered by distance ascending, then by position ascending: positions are kept in
 * insertion order by the caller, so ties come back oldest first and every answer is
 * deterministic. `include` (optional, one byte per position) excludes positions holding 0:
 * deleted entries and metadata-filter misses.
 *
 * Popcount: the 16-bit lookup table measured faster than the SWAR bit trick in V8
 * (bench/hashing/hamming.ts prints both), so the loops use the table.
 */

export type TopK = { indices: Int32Array; distances: Uint16Array };

export type TopKQuery = { k: number; maxDistance: number };

/** Codes scanned per block: one block stays in cache while every query of a batch passes over it. */
const BLOCK = 4096;

/** Distance from every code to one query (the reference and benchmark path). */
export function hammingDistances(codes: Uint32Array, wordsPerCode: number, count: number, query: Uint32Array, out: Uint16Array = new Uint16Array(count)): Uint16Array {
  const T = POPCOUNT16;
  for (let i = 0, base = 0; i < count; i++, base += wordsPerCode) {
    let d = 0;
    for (let w = 0; w < wordsPerCode; w++) {
      const x = codes[base + w] ^ query[w];
      d += T[x & 0xffff] + T[x >>> 16];
    }
    out[i] = d;
  }
  return out;
}

/** Same as hammingDistances with the SWAR popcount, kept to measure the two against each other. */
export function hammingDistancesSwar(codes: Uint32Array, wordsPerCode: number, count: number, query: Uint32Array, out: Uint16Array = new Uint16Array(count)): Uint16Array {
  for (let i = 0, base = 0; i < count; i++, base += wordsPerCode) {
    let d = 0;
    for (let w = 0; w < wordsPerCode; w++) d += popcount32(codes[base + w] ^ query[w]);
    out[i] = d;
  }
  return out;
}

/**
 * Candidates of one query: positions within the current distance bound, in position order,
 * with a histogram of their distances. When the buffer fills, the bound drops to the smallest
 * distance that still keeps k candidates and farther ones are dropped, so memory stays O(k)
 * (plus ties at the bound) while the scan stays a single pass.
 */
class Selection {
  indices: Int32Array;
  distances: Uint16Array;
  size = 0;
  bound: number;
  private readonly histogram: Int32Array;

  constructor(
    readonly k: number,
    maxDistance: number,
    bits: number,
    count: number,
  ) {
    this.bound = Math.min(maxDistance, bits);
    this.histogram = new Int32Array(bits + 1);
    const capacity = Math.min(count, Math.max(2 * k, 1024));
    this.indices = new Int32Array(Math.max(capacity, 1));
    this.distances = new Uint16Array(Math.max(capacity, 1));
  }

  /** Called when the buffer is full: lower the bound if k nearer candidates exist, else grow. */
  makeRoom(): void {
    this.histogram.fill(0);
    for (let i = 0; i < this.size; i++) this.histogram[this.distances[i]]++;
    let kept = 0;
    let bound = 0;
    while (bound < this.bound && kept + this.histogram[bound] < this.k) kept += this.histogram[bound++];
    if (bound < this.bound) {
      this.bound = bound;
      let n = 0;
      for (let i = 0; i < this.size; i++) {
        if (this.distances[i] <= bound) {
          this.indices[n] = this.indices[i];
          this.distances[n++] = this.distances[i];
        }
      }
      this.size = n;
    }
    // Many ties at the bound can still leave the buffer full: grow it.
    if (this.size > this.indices.length / 2) {
      const indices = new Int32Array(this.indices.length * 2);
      indices.set(this.indices.subarray(0, this.size));
      const distances = new Uint16Array(this.distances.length * 2);
      distances.set(this.distances.subarray(0, this.size));
      this.indices = indices;
      this.distances = distances;
    }
  }

  /** The first k candidates by (distance, position): a counting sort, stable in position. */
  finish(): TopK {
    const bound = this.bound;
    const starts = new Int32Array(bound + 2);
    for (let i = 0; i < this.size; i++) if (this.distances[i] <= bound) starts[this.distances[i] + 1]++;
    for (let d = 0; d <= bound; d++) starts[d + 1] += starts[d];
    const total = Math.min(this.k, starts[bound + 1]);
    const indices = new Int32Array(total);
    const distances = new Uint16Array(total);
    for (let i = 0; i < this.size; i++) {
      const d = this.distances[i];
      if (d > bound) continue;
      const at = starts[d]++;
      if (at < total) {
        indices[at] = this.indices[i];
        distances[at] = d;
      }
    }
    return { indices, distances };
  }
}

// One scan loop per code width, each small and monomorphic so V8 optimises it on its own.
// A candidate is kept when d <= bound; a full buffer lowers the bound (Selection.makeRoom).
// The keep-a-candidate tail repeats in scan1/scan2/scanN on purpose: it works on locals hoisted
// out of `sel` (bound, buffers, size), which a shared helper could only update through `sel` or
// a returned object on every kept candidate. This is the JavaScript fallback for codes over 64
// bits (the served kernel is WebAssembly, hamming-wasm.ts); `bench/hashing/hamming.ts` measures
// it (docs/hashing.md, "Hamming search") and any change here should keep its figure.

function scan2(codes: Uint32Array, start: number, end: number, q0: number, q1: number, sel: Selection, include: Uint8Array | null): void {
  const T = POPCOUNT16;
  let bound = sel.bound;
  let indices = sel.indices;
  let distances = sel.distances;
  let size = sel.size;
  for (let i = start, j = start * 2; i < end; i++, j += 2) {
    const x = codes[j] ^ q0;
    const y = codes[j + 1] ^ q1;
    const d = T[x & 0xffff] + T[x >>> 16] + T[y & 0xffff] + T[y >>> 16];
    if (d > bound) continue;
    if (include !== null && include[i] === 0) continue;
    indices[size] = i;
    distances[size++] = d;
    if (size === indices.length) {
      sel.size = size;
      sel.makeRoom();
      bound = sel.bound;
      indices = sel.indices;
      distances = sel.distances;
      size = sel.size;
    }
  }
  sel.size = size;
}

function scan1(codes: Uint32Array, start: number, end: number, q0: number, sel: Selection, include: Uint8Array | null): void {
  const T = POPCOUNT16;
  let bound = sel.bound;
  let indices = sel.indices;
  let distances = sel.distances;
  let size = sel.size;
  for (let i = start; i < end; i++) {
    const x = codes[i] ^ q0;
    const d = T[x & 0xffff] + T[x >>> 16];
    if (d > bound) continue;
    if (include !== null && include[i] === 0) continue;
    indices[size] = i;
    distances[size++] = d;
    if (size === indices.length) {
      sel.size = size;
      sel.makeRoom();
      bound = sel.bound;
      indices = sel.indices;
      distances = sel.distances;
      size = sel.size;
    }
  }
  sel.size = size;
}

function scanN(codes: Uint32Array, wordsPerCode: number, start: number, end: number, queries: Uint32Array, qb: number, sel: Selection, include: Uint8Array | null): void {
  const T = POPCOUNT16;
  let bound = sel.bound;
  let indices = sel.indices;
  let distances = sel.distances;
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
      indices = sel.indices;
      distances = sel.distances;
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
      if (wordsPerCode === 2) scan2(codes, start, end, queries[qb], queries[qb + 1], selections[q], include);
      else if (wordsPerCode === 1) scan1(codes, start, end, queries[qb], selections[q], include);
      else scanN(codes, wordsPerCode, start, end, queries, qb, selections[q], include);
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
