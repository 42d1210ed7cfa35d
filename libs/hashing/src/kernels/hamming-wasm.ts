import { type TopK, candidateSlots, keepNearest, nearestInOrder } from './candidates.js';
import { WASM_BASE64 } from './hamming-wasm.bytes.js';

/**
 * Hamming top-k over codes of up to 64 bits (two 32-bit words per code: the 48- and 64-bit
 * hashes) in WebAssembly, whose `i64.popcnt` is one instruction where JavaScript needs two table
 * lookups per word. The scan loop is hamming.wat (assembled with wabt by `npm run build`); this
 * driver lowers its distance bound whenever the candidate buffer fills (keepNearest) and orders
 * the winners by distance, then position: ties oldest first.
 */

const PAGE = 65536;
/** The most pages the module's memory may grow to (4 GiB: 500 M codes, far above one collection). */
const MAX_PAGES = 65536;
const MAX_BITS = 64;

type Scan = (at: number, end: number, query: bigint, bound: number, include: number, indices: number, distances: number, n: number, cap: number) => [number, number];

let compiled: WebAssembly.Module | null = null;

/** The compiled module (one per process; instances share it). */
function compiledModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(WASM_BASE64, 'base64'));
  return compiled;
}

const align8 = (n: number) => (n + 7) & ~7;

/** Options of a scanner: several lanes let several threads scan parts of the codes at once. */
export type ScannerOptions = {
  /** Candidate buffers, one per thread scanning at once (default 1). */
  lanes?: number;
  /** The memory of another scanner (one shared by threads); it is used as that scanner laid it out. */
  memory?: WebAssembly.Memory;
};

/**
 * Codes live in the module's (shared) memory from address 0, written through `codes()`, so a
 * search copies nothing but the optional include mask. After the codes: the include mask, then
 * one candidate buffer (positions, distances) per lane.
 */
export class WasmHammingScanner {
  readonly memory: WebAssembly.Memory;
  private readonly scan: Scan;
  private readonly lanes: number;
  private readonly owner: boolean;
  private capacity: number;
  private slots: number;

  constructor(capacity = 1024, maxK = 10, options: ScannerOptions = {}) {
    this.lanes = options.lanes ?? 1;
    this.owner = !options.memory;
    this.capacity = Math.max(1, capacity);
    this.slots = candidateSlots(maxK);
    this.memory = options.memory ?? new WebAssembly.Memory({ initial: this.pagesNeeded(), maximum: MAX_PAGES, shared: true });
    if (this.memory.buffer.byteLength < this.layout().end) throw new Error(`the memory given holds ${this.memory.buffer.byteLength} bytes; this layout needs ${this.layout().end}`);
    const instance = new WebAssembly.Instance(compiledModule(), { lumen: { memory: this.memory } });
    this.scan = instance.exports.scan as Scan;
  }

  private layout(capacity = this.capacity, slots = this.slots) {
    const include = capacity * 8;
    const candidates = include + align8(capacity);
    // Per lane: slots positions (i32), then slots distances (u8), the next lane 8-aligned.
    const stride = align8(slots * 5);
    const lane = (i: number) => ({ indices: candidates + i * stride, distances: candidates + i * stride + slots * 4 });
    return { include, lane, end: candidates + this.lanes * stride };
  }

  private pagesNeeded(): number {
    return Math.ceil(this.layout().end / PAGE);
  }

  /** Makes room for `capacity` codes and k up to `maxK`; the codes already written stay where they are. */
  reserve(capacity: number, maxK = 0): void {
    if (capacity <= this.capacity && candidateSlots(maxK) <= this.slots) return;
    if (!this.owner) throw new Error('a scanner on another scanner’s memory cannot grow it');
    this.capacity = Math.max(capacity, this.capacity);
    this.slots = Math.max(candidateSlots(maxK), this.slots);
    const pages = this.pagesNeeded() - this.memory.buffer.byteLength / PAGE;
    if (pages > 0) this.memory.grow(pages);
  }

  /** The codes, two 32-bit words per code (a view of the memory as it is now: take a new one after reserve). */
  codes(): Uint32Array {
    return new Uint32Array(this.memory.buffer, 0, this.capacity * 2);
  }

  /**
   * The k nearest of the first `count` codes to `query` (two words at `queryOffset`), within
   * maxDistance, ordered by distance then position; `include[i] === 0` leaves code i out.
   */
  topK(count: number, query: Uint32Array, queryOffset: number, k: number, maxDistance: number, include: Uint8Array | null = null): TopK {
    return this.topKRange(0, count, query, queryOffset, k, maxDistance, include);
  }

  /**
   * Same as topK over the codes [start, end) only, with the candidate buffer of `lane`: threads
   * sharing the memory each take a range and a lane of their own.
   */
  topKRange(start: number, end: number, query: Uint32Array, queryOffset: number, k: number, maxDistance: number, include: Uint8Array | null = null, lane = 0): TopK {
    if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
    if (!Number.isInteger(maxDistance) || maxDistance < 0) throw new Error(`maxDistance must be a non-negative integer, got ${maxDistance}`);
    if (end > this.capacity) throw new Error(`end ${end} exceeds capacity ${this.capacity}`);
    if (lane < 0 || lane >= this.lanes) throw new Error(`lane ${lane} of ${this.lanes}`);
    const take = Math.min(k, Math.max(0, end - start));
    if (take === 0) return { indices: new Int32Array(0), distances: new Uint16Array(0) };
    if (candidateSlots(take) > this.slots) this.reserve(this.capacity, take);
    const layout = this.layout();
    const buffers = layout.lane(lane);
    // A range no larger than the buffer fits whole: it fills, if at all, at the last code.
    const cap = Math.min(candidateSlots(take), end - start);
    const indices = new Int32Array(this.memory.buffer, buffers.indices, cap);
    const distances = new Uint8Array(this.memory.buffer, buffers.distances, cap);
    if (include) new Uint8Array(this.memory.buffer, layout.include + start, end - start).set(include.subarray(start, end));
    const q = (BigInt(query[queryOffset + 1] >>> 0) << 32n) | BigInt(query[queryOffset] >>> 0);
    const limit = Math.min(maxDistance, MAX_BITS);
    let bound = limit;
    let at = start;
    let n = 0;
    while (at < end) {
      [at, n] = this.scan(at, end, BigInt.asIntN(64, q), bound, include ? layout.include : 0, buffers.indices, buffers.distances, n, cap);
      if (n < cap || at === end) break;
      const kth = keepNearest(indices, distances, n, take, limit);
      n = take;
      if (kth === 0) break; // k exact matches: no later code can rank above them
      bound = kth - 1;
    }
    return nearestInOrder(indices, distances, n, take, limit);
  }
}
