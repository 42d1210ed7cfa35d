/**
 * Hamming top-k over 64-bit codes (two 32-bit words per code: 48- and 64-bit hashes) in
 * WebAssembly, whose native `i64.popcnt` is one instruction where JavaScript needs a table
 * lookup per 16 bits. One pass computes every distance and a histogram of distances; the
 * histogram gives the k-th distance, and a second pass over the distance bytes collects the
 * winners in index order, which is the deterministic tie order (oldest first).
 *
 * The module is assembled here byte by byte (no toolchain needed); its text form:
 *
 *   (func $scan (param $codes i32) (param $count i32) (param $q i64) (param $include i32)
 *                 (param $dist i32) (param $hist i32) (local $i i32) (local $d i32)
 *     loop: d = i64.popcnt(i64.load(codes + 8i) ^ q); if include && !include[i] then d = 255
 *           dist[i] = d; hist[d] += 1)
 *   (func $collect (param $dist i32) (param $count i32) (param $t i32) (param $equal i32)
 *                    (param $out i32) (result i32) (local $i i32) (local $n i32) (local $d i32)
 *     loop: d = dist[i]; if d < t or (d == t and equal > 0, equal -= 1) then out[n++] = i)
 */

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
};
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
const name = (s: string) => [...leb(s.length), ...Buffer.from(s)];

const I32 = 0x7f;
const I64 = 0x7e;
// opcodes
const [BLOCK, LOOP, IF, END, BR, BR_IF, VOID] = [0x02, 0x03, 0x04, 0x0b, 0x0c, 0x0d, 0x40];
const [GET, SET, TEE] = [0x20, 0x21, 0x22];
const I32_CONST = 0x41;
const [I32_LOAD, I64_LOAD, I32_LOAD8_U, I32_STORE, I32_STORE8] = [0x28, 0x29, 0x2d, 0x36, 0x3a];
const [I32_EQZ, I32_EQ, I32_LT_U, I32_GE_U, I32_GT_U] = [0x45, 0x46, 0x49, 0x4f, 0x4b];
const [I32_ADD, I32_SUB, I32_SHL, I64_XOR, I64_POPCNT, I32_WRAP_I64] = [0x6a, 0x6b, 0x74, 0x85, 0x7b, 0xa7];

function scanBody(): number[] {
  // params: 0 codes, 1 count, 2 q (i64), 3 include, 4 dist, 5 hist; locals: 6 i, 7 d
  const addr = (base: number, shift: number, index: number) => [GET, base, GET, index, I32_CONST, shift, I32_SHL, I32_ADD];
  const code = [
    BLOCK, VOID, LOOP, VOID,
    GET, 6, GET, 1, I32_GE_U, BR_IF, 1,
    ...addr(0, 3, 6), I64_LOAD, 3, 0, GET, 2, I64_XOR, I64_POPCNT, I32_WRAP_I64, SET, 7,
    GET, 3, IF, VOID,
    GET, 3, GET, 6, I32_ADD, I32_LOAD8_U, 0, 0, I32_EQZ, IF, VOID, I32_CONST, ...[0xff, 0x01], SET, 7, END,
    END,
    GET, 4, GET, 6, I32_ADD, GET, 7, I32_STORE8, 0, 0,
    ...addr(5, 2, 7), ...addr(5, 2, 7), I32_LOAD, 2, 0, I32_CONST, 1, I32_ADD, I32_STORE, 2, 0,
    GET, 6, I32_CONST, 1, I32_ADD, SET, 6,
    BR, 0, END, END, END,
  ];
  return [...vec([[2, I32]]), ...code];
}

function collectBody(): number[] {
  // params: 0 dist, 1 count, 2 threshold, 3 equal, 4 out; locals: 5 i, 6 n, 7 d
  const push = [GET, 4, GET, 6, I32_CONST, 2, I32_SHL, I32_ADD, GET, 5, I32_STORE, 2, 0, GET, 6, I32_CONST, 1, I32_ADD, SET, 6];
  const code = [
    BLOCK, VOID, LOOP, VOID,
    GET, 5, GET, 1, I32_GE_U, BR_IF, 1,
    GET, 0, GET, 5, I32_ADD, I32_LOAD8_U, 0, 0, TEE, 7, GET, 2, I32_LT_U,
    IF, VOID, ...push, END,
    GET, 7, GET, 2, I32_EQ, IF, VOID,
    GET, 3, I32_CONST, 0, I32_GT_U, IF, VOID, ...push, GET, 3, I32_CONST, 1, I32_SUB, SET, 3, END,
    END,
    GET, 5, I32_CONST, 1, I32_ADD, SET, 5,
    BR, 0, END, END,
    GET, 6, END,
  ];
  return [...vec([[3, I32]]), ...code];
}

function assemble(): Uint8Array {
  const types = vec([
    [0x60, ...vec([[I32], [I32], [I64], [I32], [I32], [I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([[I32]])],
  ]);
  const functions = vec([[0], [1]]);
  const memory = vec([[0x00, ...leb(1)]]);
  const exports = vec([
    [...name('memory'), 0x02, 0],
    [...name('scan'), 0x00, 0],
    [...name('collect'), 0x00, 1],
  ]);
  const bodies = [scanBody(), collectBody()].map((b) => [...leb(b.length), ...b]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(3, functions),
    ...section(5, memory),
    ...section(7, exports),
    ...section(10, vec(bodies)),
  ]);
}

let compiled: WebAssembly.Module | null = null;

const PAGE = 65536;
const HIST_BYTES = 256 * 4;

/**
 * Codes live in the instance's own memory (written through `codes()`), so a search copies
 * nothing but the optional include mask. Layout: histogram | distances | winners | include | codes.
 */
export class WasmHammingScanner {
  private readonly instance: WebAssembly.Instance;
  private readonly memory: WebAssembly.Memory;
  private capacity = 0;
  private maxK = 0;

  constructor(capacity = 1024, maxK = 1024) {
    compiled ??= new WebAssembly.Module(assemble());
    this.instance = new WebAssembly.Instance(compiled, {});
    this.memory = this.instance.exports.memory as WebAssembly.Memory;
    this.reserve(capacity, maxK);
  }

  private layout(capacity = this.capacity, maxK = this.maxK) {
    const dist = HIST_BYTES;
    const out = dist + ((capacity + 7) & ~7);
    const include = out + maxK * 4;
    const codes = include + ((capacity + 7) & ~7);
    return { dist, out, include, codes, end: codes + capacity * 8 };
  }

  /** Makes room for `capacity` codes and k up to `maxK`, keeping the codes already written. */
  reserve(capacity: number, maxK = this.maxK): void {
    if (capacity <= this.capacity && maxK <= this.maxK) return;
    const before = this.capacity ? new Uint32Array(this.memory.buffer, this.layout().codes, this.capacity * 2).slice() : null;
    const next = this.layout(Math.max(capacity, this.capacity), Math.max(maxK, this.maxK));
    const pages = Math.ceil(next.end / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (pages > 0) this.memory.grow(pages);
    this.capacity = Math.max(capacity, this.capacity);
    this.maxK = Math.max(maxK, this.maxK);
    if (before) this.codes().set(before);
  }

  /** The codes, two 32-bit words per code (valid until the next reserve). */
  codes(): Uint32Array {
    return new Uint32Array(this.memory.buffer, this.layout().codes, this.capacity * 2);
  }

  /**
   * The k nearest of the first `count` codes to `query` (two words), within maxDistance,
   * ordered by distance then index; `include[i] === 0` leaves code i out.
   */
  topK(count: number, query: Uint32Array, queryOffset: number, k: number, maxDistance: number, include: Uint8Array | null = null): { indices: Int32Array; distances: Uint16Array } {
    if (count > this.capacity) throw new Error(`count ${count} exceeds capacity ${this.capacity}`);
    const take = Math.min(k, count);
    if (take > this.maxK) this.reserve(this.capacity, take);
    const layout = this.layout();
    const hist = new Int32Array(this.memory.buffer, 0, 256);
    hist.fill(0);
    if (include) new Uint8Array(this.memory.buffer, layout.include, count).set(include.subarray(0, count));
    const q = BigInt.asIntN(64, (BigInt(query[queryOffset + 1] >>> 0) << 32n) | BigInt(query[queryOffset] >>> 0));
    (this.instance.exports.scan as (...a: (number | bigint)[]) => void)(layout.codes, count, q, include ? layout.include : 0, layout.dist, 0);
    // The smallest threshold t holding k codes (capped at maxDistance), and how many of the
    // codes exactly at t still fit.
    const limit = Math.min(maxDistance, 64);
    let below = 0;
    let threshold = limit;
    let equal = -1;
    for (let d = 0; d <= limit; d++) {
      if (below + hist[d] >= take) {
        threshold = d;
        equal = take - below;
        break;
      }
      below += hist[d];
    }
    // Fewer than k codes within maxDistance: take every one, those at maxDistance included.
    if (equal < 0) equal = hist[limit];
    const found = (this.instance.exports.collect as (...a: number[]) => number)(layout.dist, count, threshold, equal, layout.out);
    const winners = new Int32Array(this.memory.buffer, layout.out, found).slice();
    const distBytes = new Uint8Array(this.memory.buffer, layout.dist, count);
    const order = Array.from(winners).sort((a, b) => distBytes[a] - distBytes[b] || a - b);
    return { indices: Int32Array.from(order), distances: Uint16Array.from(order, (i) => distBytes[i]) };
  }
}
