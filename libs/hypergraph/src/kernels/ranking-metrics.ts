/**
 * Ranking metrics of binary scorers on typed arrays, matching scikit-learn's `roc_auc_score` and
 * `average_precision_score` (the functions behind the model cards' test metrics).
 * `labels[i]` is 1 for a positive and 0 for a negative.
 */

function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<number>): { positives: number; negatives: number } {
  if (scores.length !== labels.length) throw new RangeError(`${scores.length} scores but ${labels.length} labels`);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) throw new RangeError(`label ${i} is ${labels[i]}, expected 0 or 1`);
    if (Number.isNaN(scores[i])) throw new RangeError(`score ${i} is NaN`);
    positives += labels[i];
  }
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) throw new RangeError('AUC and AP need at least one positive and one negative');
  return { positives, negatives };
}

/** Indices sorted by score, ascending or descending. */
function order(scores: ArrayLike<number>, descending: boolean): Uint32Array {
  const indices = new Uint32Array(scores.length);
  for (let i = 0; i < indices.length; i++) indices[i] = i;
  return indices.sort(descending ? (a, b) => scores[b] - scores[a] : (a, b) => scores[a] - scores[b]);
}

/**
 * Area under the ROC curve as the Mann–Whitney U statistic: the probability that a random
 * positive outscores a random negative, ties counting one half (tied scores get their
 * average rank).
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives, negatives } = checkInputs(scores, labels);
  const sorted = order(scores, false);
  let positiveRankSum = 0;
  for (let start = 0; start < sorted.length; ) {
    let end = start + 1;
    while (end < sorted.length && scores[sorted[end]] === scores[sorted[start]]) end++;
    // Ranks start..end-1 (1-based: start+1..end) are tied; each gets their mean.
    const meanRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) if (labels[sorted[k]] === 1) positiveRankSum += meanRank;
    start = end;
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Average precision: Σ_n (R_n − R_{n−1}) · P_n over the distinct score thresholds, highest
 * first, where R and P are recall and precision of "score ≥ threshold". Tied scores enter
 * together, as one threshold (no interpolation), like scikit-learn.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives } = checkInputs(scores, labels);
  const sorted = order(scores, true);
  let truePositives = 0;
  let ap = 0;
  for (let start = 0; start < sorted.length; ) {
    let end = start;
    let gained = 0;
    while (end < sorted.length && scores[sorted[end]] === scores[sorted[start]]) gained += labels[sorted[end++]];
    truePositives += gained;
    if (gained) ap += (gained / positives) * (truePositives / end);
    start = end;
  }
  return ap;
}
