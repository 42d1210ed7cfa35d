/**
 * Planted outsiders: the cases behind the outsider-identification figures (docs/hypergraph.md).
 * A case is a true hyperedge with one node replaced by a node of the same type that shares no
 * known hyperedge with any of the remaining nodes, so exactly one node does not belong.
 */

export type PlantedOutsider = {
  /** Per-type ids of the candidate, in node-type order. */
  ids: Int32Array;
  /** Position (= node type) of the replaced node. */
  planted: number;
  /** Index of the true hyperedge it was made from, in `positives`. */
  source: number;
};

/**
 * Up to `maxCases` planted outsiders from `positives` (per-type ids, `rows × typeCounts.length`,
 * row-major, as `EvalRows.ids`), in their order. Case n replaces the node of type
 * n mod typeCount; the replacement is a node of that type that co-occurs, in no row of `known`
 * (same layout: every hyperedge whose pairs count as known), with any other node of the
 * hyperedge. Of those "strangers" (ascending ids) it takes the one at (source × 7919) mod their
 * number, so the cases are fixed by the data alone. A hyperedge without a stranger for its turn's
 * type is skipped.
 */
export function plantOutsiders(positives: Int32Array, known: Int32Array, typeCounts: readonly number[], maxCases: number): PlantedOutsider[] {
  const types = typeCounts.length;
  if (types < 2) throw new RangeError('planting an outsider needs at least two node types');
  if (positives.length % types !== 0 || known.length % types !== 0) throw new RangeError(`ids are not whole rows of ${types} types`);
  const offsets: number[] = [];
  let total = 0;
  for (const count of typeCounts) {
    offsets.push(total);
    total += count;
  }
  const globalId = (type: number, id: number): number => {
    if (!Number.isInteger(id) || id < 0 || id >= typeCounts[type]) throw new RangeError(`id ${id} is out of range for type ${type} (0..${typeCounts[type] - 1})`);
    return offsets[type] + id;
  };
  // Unordered pairs of global ids that share a known hyperedge, as one number each (< 2^53 for any
  // realistic node count).
  const pairs = new Set<number>();
  const pairKey = (a: number, b: number): number => (a < b ? a * total + b : b * total + a);
  for (let row = 0; row < known.length / types; row++) {
    for (let a = 0; a < types; a++) {
      for (let b = a + 1; b < types; b++) pairs.add(pairKey(globalId(a, known[row * types + a]), globalId(b, known[row * types + b])));
    }
  }

  const cases: PlantedOutsider[] = [];
  for (let source = 0; source < positives.length / types && cases.length < maxCases; source++) {
    const planted = cases.length % types;
    const ids = positives.slice(source * types, (source + 1) * types);
    const others: number[] = [];
    for (let t = 0; t < types; t++) if (t !== planted) others.push(globalId(t, ids[t]));
    const strangers: number[] = [];
    for (let id = 0; id < typeCounts[planted]; id++) {
      if (id === ids[planted]) continue;
      const candidate = offsets[planted] + id;
      if (!others.some((other) => pairs.has(pairKey(candidate, other)))) strangers.push(id);
    }
    if (!strangers.length) continue;
    ids[planted] = strangers[(source * 7919) % strangers.length];
    cases.push({ ids, planted, source });
  }
  return cases;
}

/** Fraction of cases whose chosen position is the planted one. */
export function hitRate(chosen: ArrayLike<number>, planted: ArrayLike<number>): number {
  if (chosen.length !== planted.length) throw new RangeError(`${chosen.length} answers for ${planted.length} cases`);
  if (!chosen.length) throw new RangeError('no cases');
  let hits = 0;
  for (let i = 0; i < chosen.length; i++) if (chosen[i] === planted[i]) hits++;
  return hits / chosen.length;
}

/** Index of the largest (`largest` true) or smallest value; the first one on ties. */
export function argExtreme(values: ArrayLike<number>, largest: boolean): number {
  if (!values.length) throw new RangeError('no values');
  let best = 0;
  for (let i = 1; i < values.length; i++) if (largest ? values[i] > values[best] : values[i] < values[best]) best = i;
  return best;
}
