import { describe, expect, it } from 'vitest';
import { friedman } from '../src';

// Reference values: test/reference/scipy_values.py (SciPy 1.10.1); F and its p as
// F = (n−1)χ²/(n(k−1) − χ²), stats.f.sf(F, k−1, (k−1)(n−1)).
function close(actual: number, expected: number, rel = 1e-10): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + 1e-14);
}

const M1 = [
  [0.81, 0.75, 0.62],
  [0.9, 0.93, 0.7],
  [0.55, 0.52, 0.49],
  [0.71, 0.6, 0.66],
  [0.88, 0.85, 0.79],
  [0.64, 0.69, 0.58],
];
// Rank rows (1 = best) built to give the rank sums of Demšar (2006) Table 6 (14 data sets, 4
// algorithms: average ranks 3.143, 2.000, 2.893, 1.964); scores are 5 − rank, the last row ties two.
const DEMSAR_RANKS = [...Array(4).fill([1, 2, 3, 4]), [4, 1, 3, 2], ...Array(8).fill([4, 2, 3, 1]), [4, 3, 1.5, 1.5]] as number[][];
const DEMSAR = DEMSAR_RANKS.map((row) => row.map((r) => 5 - r));

describe('friedman', () => {
  it('hand-worked: three blocks agree on the order', () => {
    // Ranks (1, 2, 3) in each block: rank sums 3, 6, 9; χ² = 12/(3·3·4)·(9 + 36 + 81) − 3·3·4 = 42 − 36 = 6 = n(k−1);
    // P(χ²_2 > 6) = e^{−3}; F_F's denominator n(k−1) − χ² is 0: F = ∞, p = 0.
    const r = friedman([
      [3, 2, 1],
      [30, 20, 10],
      [0.3, 0.2, 0.1],
    ]);
    expect(r.averageRanks).toEqual([1, 2, 3]);
    close(r.chi2, 6);
    close(r.pValue, Math.exp(-3));
    expect(r).toMatchObject({ df: 2, n: 3, k: 3, imanDavenport: { F: Infinity, df1: 2, df2: 4, pValue: 0 } });
  });

  it('SciPy friedmanchisquare without ties', () => {
    // stats.friedmanchisquare(*M1.T) → (7.0, 0.0301973834223185); F = 7.0, f.sf → 0.012558674125514407
    const r = friedman(M1);
    close(r.chi2, 7);
    close(r.pValue, 0.0301973834223185);
    close(r.imanDavenport.F, 7);
    close(r.imanDavenport.pValue, 0.012558674125514407);
    expect(r.imanDavenport.df2).toBe(10);
    // Ranks per block (largest = 1): [1,2,3] [2,1,3] [1,2,3] [1,3,2] [1,2,3] [2,1,3] → sums 8, 11, 17.
    expect(r.averageRanks.map((x) => x * 6)).toEqual([8, 11, 17]);
  });

  it('SciPy friedmanchisquare with ties (tie-corrected χ²)', () => {
    // stats.friedmanchisquare(*M2.T) → (0.24999999999999287, 0.9691404042162746); F → 0.07228915662650394, 0.974059687823714
    const M2 = [[1, 2, 2, 3], [4, 4, 4, 1], [2, 3, 1, 1], [5, 6, 7, 8], [3, 3, 2, 1], [9, 7, 8, 7], [1, 1, 2, 2]];
    const r = friedman(M2);
    close(r.chi2, 0.25, 1e-12);
    close(r.pValue, 0.9691404042162746, 1e-9);
    close(r.imanDavenport.F, 0.07228915662650394, 1e-9);
    close(r.imanDavenport.pValue, 0.974059687823714, 1e-9);
  });

  it("Demšar's worked example: χ²_F = 9.28, F_F = 3.69 (his formula, no tie correction); SciPy's corrected value", () => {
    const plain = friedman(DEMSAR, { tieCorrection: false });
    expect(plain.averageRanks.map((x) => +x.toFixed(3))).toEqual([3.143, 2, 2.893, 1.964]);
    expect(+plain.chi2.toFixed(2)).toBe(9.28);
    expect(+plain.imanDavenport.F.toFixed(2)).toBe(3.69);
    expect(plain.imanDavenport).toMatchObject({ df1: 3, df2: 39 });
    // stats.friedmanchisquare(*DEMSAR.T) → (9.345323741007205, 0.025035085596342828); F → 3.720423000660944, 0.01910531744393329
    const r = friedman(DEMSAR);
    close(r.chi2, 9.345323741007205);
    close(r.pValue, 0.025035085596342828);
    close(r.imanDavenport.F, 3.720423000660944);
    close(r.imanDavenport.pValue, 0.01910531744393329);
  });

  it('all ties: χ² = 0, p = 1; average ranks are the middle rank', () => {
    const r = friedman([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(r).toMatchObject({ chi2: 0, pValue: 1, averageRanks: [2, 2, 2], imanDavenport: { F: 0, pValue: 1 } });
  });

  it('is unchanged by reordering the blocks and permutes with the columns; p-values in [0, 1]', () => {
    const a = friedman(DEMSAR);
    const b = friedman([...DEMSAR].reverse());
    close(b.chi2, a.chi2, 1e-12);
    const swapped = friedman(DEMSAR.map((row) => [row[2], row[0], row[3], row[1]]));
    close(swapped.chi2, a.chi2, 1e-12);
    expect(swapped.averageRanks).toEqual([a.averageRanks[2], a.averageRanks[0], a.averageRanks[3], a.averageRanks[1]]);
    for (const r of [a, b, swapped]) {
      expect(r.pValue).toBeGreaterThanOrEqual(0);
      expect(r.pValue).toBeLessThanOrEqual(1);
      expect(r.imanDavenport.pValue).toBeGreaterThanOrEqual(0);
      expect(r.imanDavenport.pValue).toBeLessThanOrEqual(1);
    }
  });

  it('rejects bad shapes and values', () => {
    expect(() => friedman([[1, 2]])).toThrow(/at least 2 rows/);
    expect(() => friedman([[1], [2]])).toThrow(/at least 2 columns/);
    expect(() => friedman([[1, 2], [1, 2, 3]])).toThrow(/matrix\[1\] must have 2 columns/);
    expect(() => friedman([[1, 2], [1, NaN]])).toThrow(/matrix\[1\]\[1\] is NaN/);
    expect(() => friedman([[1, 2], [1, 2]], { tieCorrection: 'yes' as never })).toThrow(/tieCorrection must be a boolean/);
  });
});
