/**
 * The candidate buffer of a top-k scan, shared by the JavaScript and WebAssembly kernels: the
 * positions kept so far, in position order, with their distances. Positions are insertion order,
 * so ordering by (distance, position) gives ties oldest first.
 */

export type TopK = { indices: Int32Array; distances: Uint16Array };

/**
 * Candidate slots a scan for k uses: k kept and room for as many more (16 at least) before the
 * next keepNearest. Small on purpose: each refill pulls the bound down to the k-th distance so far,
 * and a loose bound lets more codes past the WebAssembly scan's eight-code test into its one-code
 * path. For k = 10, 1024 slots took 1.30x the time of 20 slots on 100 K random 64-bit codes and
 * 1.21x on 1 M (256 slots: 1.06x; 64: 1.02-1.04x), the variants interleaved in one process,
 * median of 9 rounds, loaded 2-core box.
 */
export function candidateSlots(k: number): number {
  return Math.max(2 * k, 16);
}

/**
 * Keeps, in place and in position order, the k nearest of the first n candidates (n >= k) and
 * returns the distance of the k-th. Of the candidates at that distance only the first ones that
 * fit are kept: any later code at the same distance has a larger position and ranks after them,
 * so from here on the scan keeps only codes nearer than the returned distance, and the buffer
 * never needs more than k slots plus the room between two calls.
 */
export function keepNearest(indices: Int32Array, distances: Uint8Array | Uint16Array, n: number, k: number, maxDistance: number): number {
  if (n < k) throw new RangeError(`keepNearest needs at least k = ${k} candidates, got ${n}`);
  const histogram = new Int32Array(maxDistance + 1);
  for (let i = 0; i < n; i++) histogram[distances[i]]++;
  let kth = 0;
  let nearer = 0;
  while (nearer + histogram[kth] < k) nearer += histogram[kth++];
  let atKth = k - nearer;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const d = distances[i];
    if (d < kth || (d === kth && atKth-- > 0)) {
      indices[kept] = indices[i];
      distances[kept++] = d;
    }
  }
  return kth;
}

/** The first k of n candidates (in position order) by distance then position: a counting sort. */
export function nearestInOrder(indices: Int32Array, distances: Uint8Array | Uint16Array, n: number, k: number, maxDistance: number): TopK {
  const starts = new Int32Array(maxDistance + 2);
  for (let i = 0; i < n; i++) starts[distances[i] + 1]++;
  for (let d = 0; d <= maxDistance; d++) starts[d + 1] += starts[d];
  const total = Math.min(k, n);
  const out: TopK = { indices: new Int32Array(total), distances: new Uint16Array(total) };
  for (let i = 0; i < n; i++) {
    const d = distances[i];
    const at = starts[d]++;
    if (at < total) {
      out.indices[at] = indices[i];
      out.distances[at] = d;
    }
  }
  return out;
}
