/** Candidates and labels of a `test-eval.bin` file (after gunzip). */
export type EvalRows = {
  rows: number;
  /** Per-type node ids, `rows × typeCount`, in node-type (column) order. */
  ids: Int32Array;
  /** 1 for a true hyperedge, 0 for a sampled negative. */
  labels: Uint8Array;
};

/**
 * Decodes little-endian int32 rows of `typeCount` per-type ids followed by a 0/1 label, the
 * format the training export writes beside each model (`test-eval.bin.gz`).
 */
export function decodeEvalRows(bytes: Uint8Array, typeCount: number): EvalRows {
  const width = typeCount + 1;
  if (bytes.byteLength % (4 * width) !== 0) throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${width}-int32 rows`);
  const rows = bytes.byteLength / (4 * width);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ids = new Int32Array(rows * typeCount);
  const labels = new Uint8Array(rows);
  for (let row = 0; row < rows; row++) {
    for (let t = 0; t < typeCount; t++) ids[row * typeCount + t] = view.getInt32((row * width + t) * 4, true);
    const label = view.getInt32((row * width + typeCount) * 4, true);
    if (label !== 0 && label !== 1) throw new RangeError(`row ${row}: label ${label} is not 0 or 1`);
    labels[row] = label;
  }
  return { rows, ids, labels };
}
