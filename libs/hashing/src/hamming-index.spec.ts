import { HammingIndex } from './hamming-index.js';

function code(bytes: number[]): Uint8Array {
  return new Uint8Array(bytes);
}

/** 16-bit codes: n low bits set → distance n from the all-zero code. */
function withDistance(n: number): Uint8Array {
  const value = n === 0 ? 0 : (0xffff << (16 - n)) & 0xffff;
  return code([value >> 8, value & 0xff]);
}

describe('HammingIndex', () => {
  it('ranks by distance, ties oldest first, and honours k, maxDistance and filters', () => {
    const index = new HammingIndex(16, 2);
    const distances = [3, 1, 3, 0, 1, 5, 3];
    distances.forEach((d, i) => index.add({ id: `img${i}`, externalId: `x${i}`, metadata: { parity: i % 2 ? 'odd' : 'even', i } }, withDistance(d)));
    const zero = code([0, 0]);
    expect(index.search(zero, { k: 10 }).map((h) => [h.image.id, h.distance])).toEqual([
      ['img3', 0], ['img1', 1], ['img4', 1], ['img0', 3], ['img2', 3], ['img6', 3], ['img5', 5],
    ]);
    expect(index.search(zero, { k: 4 }).map((h) => h.image.id)).toEqual(['img3', 'img1', 'img4', 'img0']);
    expect(index.search(zero, { k: 10, maxDistance: 1 }).map((h) => h.image.id)).toEqual(['img3', 'img1', 'img4']);
    expect(index.search(zero, { k: 10, filter: { parity: 'odd' } }).map((h) => h.image.id)).toEqual(['img3', 'img1', 'img5']);
    expect(index.search(zero, { k: 10, filter: { parity: 'odd', i: 5 } }).map((h) => h.image.id)).toEqual(['img5']);
    expect(index.search(zero, { k: 10, filter: { missing: null } })).toEqual([]);
  });

  it('deletes, keeps the tie order through compaction, and returns stored codes', () => {
    const index = new HammingIndex(16);
    const n = 3000;
    for (let i = 0; i < n; i++) index.add({ id: `img${i}`, externalId: null, metadata: {} }, withDistance(i % 4));
    const zero = code([0, 0]);
    const before = index.search(zero, { k: n }).map((h) => h.image.id);
    // Remove two thirds (forces compaction), then the answer is the old one without them.
    const removed = new Set<string>();
    for (let i = 0; i < n; i++) if (i % 3) removed.add(`img${i}`);
    for (const id of removed) expect(index.remove(id)).toBe(true);
    expect(index.remove('img1')).toBe(false);
    expect(index.size).toBe(n - removed.size);
    expect(index.search(zero, { k: n }).map((h) => h.image.id)).toEqual(before.filter((id) => !removed.has(id)));
    expect([...index.get('img6')!.code]).toEqual([...withDistance(2)]);
    expect(index.get('img1')).toBeUndefined();
    // New images after compaction are the newest in tie order.
    index.add({ id: 'late', externalId: null, metadata: {} }, withDistance(0));
    const zeros = index.search(zero, { k: n, maxDistance: 0 }).map((h) => h.image.id);
    expect(zeros[zeros.length - 1]).toBe('late');
  });

  it('answers several queries at once like one at a time', () => {
    const index = new HammingIndex(48);
    let s = 7;
    const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) & 0xff;
    for (let i = 0; i < 2000; i++) index.add({ id: `i${i}`, externalId: null, metadata: { g: i % 3 } }, code(Array.from({ length: 6 }, rnd)));
    const queries = Array.from({ length: 5 }, () => code(Array.from({ length: 6 }, rnd)));
    const specs = [{ k: 5 }, { k: 50, maxDistance: 20 }, { k: 2000 }, { k: 10, filter: { g: 1 } }, { k: 1 }];
    const many = index.searchMany(queries, specs);
    queries.forEach((q, i) => expect(many[i]).toEqual(index.search(q, specs[i])));
  });

  it('refuses codes of the wrong length and duplicate ids', () => {
    const index = new HammingIndex(48);
    expect(() => index.add({ id: 'a', externalId: null, metadata: {} }, code([1, 2, 3]))).toThrow('3 bytes');
    index.add({ id: 'a', externalId: null, metadata: {} }, code([1, 2, 3, 4, 5, 6]));
    expect(() => index.add({ id: 'a', externalId: null, metadata: {} }, code([1, 2, 3, 4, 5, 6]))).toThrow('already');
    expect(() => index.search(code([1]), { k: 1 })).toThrow('1 bytes');
  });

  it('ranks 64-bit codes (WebAssembly scan) like brute force through growth, deletes, compaction and filters', () => {
    let seed = 5;
    const byte = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24;
    const index = new HammingIndex(64, 2);
    const all: { id: string; code: Uint8Array; group: number }[] = [];
    for (let i = 0; i < 3000; i++) {
      const code = Uint8Array.from({ length: 8 }, byte);
      if (i % 50 === 7) code.set(all[0].code); // exact duplicates make ties
      const entry = { id: `img-${i}`, code, group: i % 3 };
      all.push(entry);
      index.add({ id: entry.id, externalId: null, metadata: { group: entry.group } }, code);
    }
    for (let i = 0; i < 3000; i += 2) index.remove(all[i].id); // 1,500 dead: compaction runs
    const survivors = all.filter((_, i) => i % 2 === 1);
    const distance = (a: Uint8Array, b: Uint8Array) => a.reduce((sum, x, i) => sum + popcount8(x ^ b[i]), 0);
    const popcount8 = (x: number) => { let c = 0; for (; x; x &= x - 1) c++; return c; };
    for (const [k, maxDistance, group] of [[10, 64, undefined], [200, 28, undefined], [5, 64, 1]] as const) {
      const query = all[7].code;
      const expected = survivors
        .filter((e) => group === undefined || e.group === group)
        .map((e, order) => ({ id: e.id, d: distance(e.code, query), order }))
        .filter((e) => e.d <= maxDistance)
        .sort((a, b) => a.d - b.d || a.order - b.order)
        .slice(0, k);
      const hits = index.search(query, { k, maxDistance, ...(group === undefined ? {} : { filter: { group } }) });
      expect(hits.map((h) => [h.image.id, h.distance])).toEqual(expected.map((e) => [e.id, e.d]));
    }
  });
});
