import { bytesToWords, codeBytes, codeWords, wordsToBytes } from './kernels/codes.js';
import { type TopKQuery, hammingTopKMany } from './kernels/hamming.js';
import { WasmHammingScanner } from './kernels/hamming-wasm.js';

/** Metadata equality filter: every key must be present with exactly this scalar value. */
export type MetadataFilter = Record<string, string | number | boolean | null>;

export type IndexedImage = { id: string; externalId: string | null; metadata: Record<string, unknown> };

export type SearchHit = { image: IndexedImage; distance: number };

export type IndexQuery = { k: number; maxDistance?: number; filter?: MetadataFilter };

/** Compaction runs once this many slots are dead and they are at least a quarter of all slots. */
const COMPACT_MIN_DEAD = 1024;

function matches(metadata: Record<string, unknown>, filter: [string, unknown][]): boolean {
  for (const [key, value] of filter) {
    if (!Object.hasOwn(metadata, key) || metadata[key] !== value) return false;
  }
  return true;
}

/**
 * The in-memory exact Hamming index of one collection. Slots are in insertion order, which is
 * what ties are broken by; deletions leave a tombstone (skipped by the search kernel) until
 * enough accumulate, then the slots are compacted in order, so the tie order never changes.
 */
export class HammingIndex {
  readonly wordsPerCode: number;
  private words: Uint32Array;
  private alive: Uint8Array;
  /**
   * Codes of up to 64 bits (the served 48- and 64-bit models; shorter ones too, in two words
   * with the second 0) live in WebAssembly memory and are searched with its native popcount;
   * `words` is then a view of that memory, refreshed whenever it grows. Longer codes use the
   * JavaScript kernel.
   */
  private readonly scanner: WasmHammingScanner | null;
  private images: (IndexedImage | null)[] = [];
  private readonly slotById = new Map<string, number>();
  private dead = 0;

  constructor(
    readonly bits: number,
    capacity = 1024,
  ) {
    this.wordsPerCode = bits <= 64 ? 2 : codeWords(bits);
    this.scanner = bits <= 64 ? new WasmHammingScanner(Math.max(1, capacity)) : null;
    this.words = this.scanner ? this.scanner.codes() : new Uint32Array(Math.max(1, capacity) * this.wordsPerCode);
    this.alive = new Uint8Array(Math.max(1, capacity));
  }

  /** Live images. */
  get size(): number {
    return this.slotById.size;
  }

  /**
   * Bytes reserved for the codes (the WebAssembly memory, with the scan's scratch space, or the
   * JavaScript words) and the live flags; the ids and metadata objects on the heap come on top.
   */
  get reservedBytes(): number {
    return (this.scanner ? this.scanner.memory.buffer.byteLength : this.words.byteLength) + this.alive.byteLength;
  }

  has(id: string): boolean {
    return this.slotById.has(id);
  }

  /** An image and its packed code, or undefined. */
  get(id: string): { image: IndexedImage; code: Uint8Array } | undefined {
    const slot = this.slotById.get(id);
    if (slot === undefined) return undefined;
    return { image: this.images[slot]!, code: wordsToBytes(this.words, slot * this.wordsPerCode, this.bits) };
  }

  /** Appends an image (it becomes the newest for tie order). */
  add(image: IndexedImage, code: Uint8Array): void {
    if (code.length !== codeBytes(this.bits)) throw new Error(`code of ${code.length} bytes for a ${this.bits}-bit index`);
    if (this.slotById.has(image.id)) throw new Error(`image ${image.id} is already indexed`);
    const slot = this.images.length;
    if (slot === this.alive.length) this.grow(slot * 2);
    bytesToWords(code, this.bits, this.words, slot * this.wordsPerCode);
    this.alive[slot] = 1;
    this.images.push(image);
    this.slotById.set(image.id, slot);
  }

  remove(id: string): boolean {
    const slot = this.slotById.get(id);
    if (slot === undefined) return false;
    this.slotById.delete(id);
    this.alive[slot] = 0;
    this.images[slot] = null;
    this.dead++;
    if (this.dead >= COMPACT_MIN_DEAD && this.dead * 4 >= this.images.length) this.compact();
    return true;
  }

  search(code: Uint8Array, query: IndexQuery): SearchHit[] {
    return this.searchMany([code], [query])[0];
  }

  /**
   * Several queries in one pass over the codes. Queries with a filter get their own pass (their
   * include mask differs); the others share one.
   */
  searchMany(codes: Uint8Array[], queries: IndexQuery[]): SearchHit[][] {
    const results: SearchHit[][] = new Array(codes.length);
    const shared: number[] = [];
    codes.forEach((code, i) => {
      if (code.length !== codeBytes(this.bits)) throw new Error(`query code of ${code.length} bytes for a ${this.bits}-bit index`);
      if (queries[i].filter && Object.keys(queries[i].filter!).length) results[i] = this.run([code], [queries[i]], this.filterMask(queries[i].filter!))[0];
      else shared.push(i);
    });
    if (shared.length) {
      const answers = this.run(shared.map((i) => codes[i]), shared.map((i) => queries[i]), this.dead ? this.alive : null);
      shared.forEach((i, j) => (results[i] = answers[j]));
    }
    return results;
  }

  private run(codes: Uint8Array[], queries: IndexQuery[], include: Uint8Array | null): SearchHit[][] {
    const queryWords = new Uint32Array(codes.length * this.wordsPerCode);
    codes.forEach((code, i) => bytesToWords(code, this.bits, queryWords, i * this.wordsPerCode));
    const specs: TopKQuery[] = queries.map((q) => ({ k: q.k, maxDistance: Math.min(q.maxDistance ?? this.bits, this.bits) }));
    let found;
    if (this.scanner) {
      found = specs.map((spec, i) => this.scanner!.topK(this.images.length, queryWords, i * 2, spec.k, spec.maxDistance, include));
      this.words = this.scanner.codes(); // a large k may have grown the memory
    } else {
      found = hammingTopKMany(this.words, this.wordsPerCode, this.images.length, this.bits, queryWords, specs, include);
    }
    return found.map(({ indices, distances }) => Array.from(indices, (slot, i) => ({ image: this.images[slot]!, distance: distances[i] })));
  }

  private filterMask(filter: MetadataFilter): Uint8Array {
    const entries = Object.entries(filter);
    const mask = new Uint8Array(this.images.length);
    for (let slot = 0; slot < this.images.length; slot++) {
      const image = this.images[slot];
      if (image && matches(image.metadata, entries)) mask[slot] = 1;
    }
    return mask;
  }

  private grow(capacity: number): void {
    if (this.scanner) {
      this.scanner.reserve(capacity);
      this.words = this.scanner.codes();
      const alive = new Uint8Array(capacity);
      alive.set(this.alive.subarray(0, this.images.length));
      this.alive = alive;
      return;
    }
    const words = new Uint32Array(capacity * this.wordsPerCode);
    words.set(this.words.subarray(0, this.images.length * this.wordsPerCode));
    const alive = new Uint8Array(capacity);
    alive.set(this.alive.subarray(0, this.images.length));
    this.words = words;
    this.alive = alive;
  }

  /** Drops tombstones, keeping the survivors in insertion order. */
  compact(): void {
    const w = this.wordsPerCode;
    let to = 0;
    for (let from = 0; from < this.images.length; from++) {
      const image = this.images[from];
      if (!image) continue;
      if (to !== from) {
        this.words.copyWithin(to * w, from * w, from * w + w);
        this.images[to] = image;
        this.slotById.set(image.id, to);
      }
      this.alive[to++] = 1;
    }
    this.alive.fill(0, to);
    this.images.length = to;
    this.dead = 0;
  }
}
