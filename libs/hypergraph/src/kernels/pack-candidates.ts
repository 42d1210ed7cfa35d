/** The two input tensors of a Hyper-SAGNN model, row-major `[batch, size]`. */
export type PackedCandidates = {
  /** Global node index per slot; padded slots hold 0. */
  index: BigInt64Array;
  /** 1 for a real node, 0 for padding. */
  mask: Float32Array;
  batch: number;
  size: number;
};

/**
 * Lays candidates (lists of global node indices, possibly of different lengths) into padded
 * `[batch, size]` index and mask arrays. `size` defaults to the longest candidate; the model
 * masks padded slots out of attention and of the score, so padding never changes a result.
 */
export function packCandidates(candidates: readonly ArrayLike<number>[], size?: number): PackedCandidates {
  const longest = candidates.reduce((max, c) => Math.max(max, c.length), 0);
  const width = size ?? longest;
  if (width < longest) throw new RangeError(`size ${width} is smaller than the longest candidate (${longest})`);
  const batch = candidates.length;
  const index = new BigInt64Array(batch * width);
  const mask = new Float32Array(batch * width);
  for (let row = 0; row < batch; row++) {
    const candidate = candidates[row];
    const base = row * width;
    for (let slot = 0; slot < candidate.length; slot++) {
      const node = candidate[slot];
      if (!Number.isInteger(node) || node < 0) throw new RangeError(`candidate ${row}, slot ${slot}: ${node} is not a node index`);
      index[base + slot] = BigInt(node);
      mask[base + slot] = 1;
    }
  }
  return { index, mask, batch, size: width };
}

/** The first `length` values of row `row` of a row-major `[batch, size]` output (e.g. node_prob). */
export function rowValues(values: ArrayLike<number>, size: number, row: number, length: number): number[] {
  const out = new Array<number>(length);
  for (let slot = 0; slot < length; slot++) out[slot] = values[row * size + slot];
  return out;
}
