/**
 * Retrieval quality of a ranked answer (pure functions, no I/O). Used by the mAP bench and the
 * CI quality gate; `training/hashing/common.py` computes the same two figures in PyTorch.
 */

/** AP of one ranked list as ranked: the mean of precision@rank over the relevant positions. */
export function averagePrecisionAsRanked(relevant: ArrayLike<boolean>, totalRelevant: number): number {
  let hits = 0;
  let sum = 0;
  for (let rank = 0; rank < relevant.length; rank++) {
    if (relevant[rank]) sum += ++hits / (rank + 1);
  }
  return totalRelevant > 0 ? sum / totalRelevant : 0;
}

/**
 * AP of a list ranked by an integer distance, with every group of equal distances counted as
 * its expected AP over all orders of the group (McSherry & Najork, ECIR 2008). The figure then
 * does not depend on how the ranking broke ties — it matters here because the API breaks them
 * by insertion order and an evaluation that uploads in class order would otherwise be rewarded.
 *
 * For a group of g items holding r relevant ones, after n0 items holding R0 relevant, position k
 * of the group is relevant with probability r/g, and given that, the group's k-1 earlier
 * positions hold (k-1)(r-1)/(g-1) relevant items on average; so the group adds
 * Σ_k (r/g)·(R0 + 1 + (k-1)(r-1)/(g-1)) / (n0 + k).
 *
 * `distances` must be in ascending order (as the search answers are); `relevant[i]` belongs to
 * `distances[i]`. Items missing from the list (a k below the collection size) are not counted.
 */
export function averagePrecisionTieAveraged(distances: ArrayLike<number>, relevant: ArrayLike<boolean>, totalRelevant: number): number {
  if (distances.length !== relevant.length) throw new RangeError('distances and relevant differ in length');
  let sum = 0;
  let n0 = 0;
  let relevantBefore = 0;
  for (let start = 0; start < distances.length; ) {
    let end = start;
    let r = 0;
    while (end < distances.length && distances[end] === distances[start]) {
      if (end > start && distances[end] < distances[end - 1]) throw new RangeError('distances are not ascending');
      if (relevant[end]) r++;
      end++;
    }
    if (end < distances.length && distances[end] < distances[end - 1]) throw new RangeError('distances are not ascending');
    const g = end - start;
    if (r > 0) {
      const slope = g > 1 ? (r - 1) / (g - 1) : 0;
      let group = 0;
      for (let k = 1; k <= g; k++) group += (relevantBefore + 1 + (k - 1) * slope) / (n0 + k);
      sum += (r / g) * group;
    }
    n0 += g;
    relevantBefore += r;
    start = end;
  }
  return totalRelevant > 0 ? sum / totalRelevant : 0;
}

/** Mean of per-query figures (0 for an empty list). */
export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}
