import { averagePrecision, rocAuc } from './ranking-metrics.js';

describe('rocAuc', () => {
  it('is 1 for a perfect ranking, 0 for a reversed one', () => {
    expect(rocAuc(Float32Array.of(0.9, 0.8, 0.2, 0.1), Uint8Array.of(1, 1, 0, 0))).toBe(1);
    expect(rocAuc(Float32Array.of(0.1, 0.2, 0.8, 0.9), Uint8Array.of(1, 1, 0, 0))).toBe(0);
  });

  it('counts ties as one half (average ranks)', () => {
    expect(rocAuc([0.5, 0.5], [1, 0])).toBe(0.5);
    // Pairs (pos, neg): (0.8,0.3)=1 (0.8,0.5)=1 (0.5,0.3)=1 (0.5,0.5)=0.5 → 3.5 / 4.
    expect(rocAuc([0.8, 0.5, 0.5, 0.3], [1, 1, 0, 0])).toBe(0.875);
  });

  it('matches scikit-learn roc_auc_score on a mixed example', () => {
    // sklearn.metrics.roc_auc_score([0,0,1,1,0,1], [0.1,0.4,0.35,0.8,0.4,0.9]) == 0.7777777777777778
    expect(rocAuc([0.1, 0.4, 0.35, 0.8, 0.4, 0.9], [0, 0, 1, 1, 0, 1])).toBeCloseTo(0.7777777777777778, 12);
  });

  it('equals the brute-force pair count on random data with many ties', () => {
    let seed = 42;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const n = 300;
    const scores = Float64Array.from({ length: n }, () => Math.round(random() * 20) / 20);
    const labels = Uint8Array.from({ length: n }, (_, i) => (random() < 0.3 || i === 0 ? 1 : 0));
    labels[1] = 0;
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      if (labels[i] === 1 && labels[j] === 0) {
        pairs++;
        wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
    }
    expect(rocAuc(scores, labels)).toBeCloseTo(wins / pairs, 12);
  });

  it('refuses mismatched lengths, non-binary labels and a single class', () => {
    expect(() => rocAuc([0.1, 0.2], [1])).toThrow('2 scores but 1 labels');
    expect(() => rocAuc([0.1, 0.2], [1, 2])).toThrow('label 1 is 2');
    expect(() => rocAuc([0.1, 0.2], [1, 1])).toThrow('at least one positive and one negative');
    expect(() => rocAuc([NaN, 0.2], [1, 0])).toThrow('NaN');
  });
});

describe('averagePrecision', () => {
  it('is 1 when every positive ranks above every negative', () => {
    expect(averagePrecision([0.9, 0.8, 0.2], [1, 1, 0])).toBe(1);
  });

  it('matches scikit-learn average_precision_score', () => {
    // sklearn.metrics.average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]) == 0.8333333333333333
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.8333333333333333, 12);
    // With a tie between a positive and a negative at the top threshold:
    // sklearn.metrics.average_precision_score([1,0,1,0], [0.9,0.9,0.5,0.1]) == 0.5833333333333333
    expect(averagePrecision([0.9, 0.9, 0.5, 0.1], [1, 0, 1, 0])).toBeCloseTo(0.5833333333333333, 12);
  });

  it('does not depend on the order of tied items', () => {
    const a = averagePrecision([0.7, 0.7, 0.7, 0.2], [1, 0, 0, 1]);
    const b = averagePrecision([0.7, 0.7, 0.7, 0.2], [0, 0, 1, 1]);
    expect(a).toBeCloseTo(b, 12);
    // Threshold 0.7: recall 1/2 at precision 1/3; threshold 0.2: recall 1 at precision 2/4.
    // sklearn.metrics.average_precision_score([1,0,0,1], [0.7,0.7,0.7,0.2]) == 0.41666666666666663
    expect(a).toBeCloseTo(0.5 * (1 / 3) + 0.5 * 0.5, 12);
    expect(a).toBeCloseTo(0.41666666666666663, 12);
  });
});
