import { describe, expect, it } from 'vitest';
import { wilcoxonSignedRank } from '../src';

// Reference values: test/reference/scipy_values.py (SciPy 1.10.1); each comment gives the line.
const A = [1.5, -0.3, 2.2, 0.8, -1.1, 3.4, 0.5, -0.2, 1.9, 2.7]; // no ties, no zeros
const B = [0, 0, 1, -1, 2, 2, -2, 3, 4, -5, 6, 7, 0.5, 8]; // 2 zeros, ties
const C = Array.from({ length: 60 }, (_, i) => (((i + 1) * 37) % 61) - 25.3); // n = 60, no ties, no zeros
const D = [1, -1, 2, 3, 3, -3, 4, 5, 6, -6, 7, 8]; // ties, no zeros
const E = [0, 0.5, -1.5, 2, 2.5, -3, 3.5, 4, 4.5, 5]; // one zero, no ties among the rest

function close(actual: number, expected: number, rel = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + 1e-300);
}

describe('wilcoxonSignedRank: exact distribution', () => {
  it('hand-worked: n = 10, R− = 8, p = 2·25/1024', () => {
    // |d| ranks: 0.2→1, 0.3→2, 0.5→3, 0.8→4, 1.1→5, …; negatives −0.2, −0.3, −1.1 → R− = 1 + 2 + 5 = 8.
    // Subsets of {1..10} with sum ≤ 8: 1+1+1+2+2+3+4+5+6 = 25 (sums 0..8), so p = 2·25/2¹⁰ = 0.048828125.
    const r = wilcoxonSignedRank(A);
    expect(r).toEqual({ statistic: 8, pValue: 0.048828125, n: 10, zeros: 0, method: 'exact' });
    // stats.wilcoxon(A, method="exact") → (8.0, 0.048828125)
    expect(wilcoxonSignedRank(A, { method: 'exact' }).pValue).toBe(0.048828125);
  });

  it('with ties: the sign-flip distribution of the tied ranks, = SciPy permutation_test over all 2^12 signs', () => {
    // stats.permutation_test((D,), r_plus, permutation_type="samples", n_resamples=np.inf) → 0.07470703125
    const r = wilcoxonSignedRank(D, { method: 'exact' });
    expect(r.method).toBe('exact');
    expect(r.statistic).toBe(16);
    close(r.pValue, 0.07470703125);
  });

  it('Pratt with a zero: exact conditional test, = permutation_test; wilcox: SciPy exact on the nonzero values', () => {
    // permutation_test((E,), r_plus, ...) → 0.07421875 ; stats.wilcoxon(E[E != 0], method="exact") → (7.0, 0.07421875)
    close(wilcoxonSignedRank(E, { method: 'exact', zeroMethod: 'pratt' }).pValue, 0.07421875);
    const w = wilcoxonSignedRank(E, { method: 'exact', zeroMethod: 'wilcox' });
    expect(w.statistic).toBe(7);
    close(w.pValue, 0.07421875);
    expect(w.zeros).toBe(1);
    expect(w.n).toBe(10);
  });
});

describe('wilcoxonSignedRank: normal approximation', () => {
  it('hand-worked Pratt case d = [0, 1, −2, 3]', () => {
    // Ranks of |d| = 1, 2, 3, 4; the zero's rank 1 is dropped: R+ = 2 + 4 = 6, R− = 3, T = 3.
    // μ = 4·5/4 − 1·2/4 = 4.5; 24σ² = 4·5·9 − 1·2·3 = 174; z = (3 − 4.5)/√(174/24) = −0.557086…
    // stats.wilcoxon([0, 1, -2, 3], zero_method="pratt", method="approx") → (3.0, 0.5774686624272996)
    const r = wilcoxonSignedRank([0, 1, -2, 3], { method: 'approx' });
    expect(r.statistic).toBe(3);
    close(r.z!, -1.5 / Math.sqrt(174 / 24));
    close(r.pValue, 0.5774686624272996);
  });

  it('matches scipy.stats.wilcoxon(method="approx") without ties, with and without correction', () => {
    // stats.wilcoxon(A, method="approx") → (8.0, 0.04685328478814715)
    close(wilcoxonSignedRank(A, { method: 'approx' }).pValue, 0.04685328478814715);
    // stats.wilcoxon(A, method="approx", correction=True) → (8.0, 0.052787000632224565)
    close(wilcoxonSignedRank(A, { method: 'approx', correction: true }).pValue, 0.052787000632224565);
  });

  it.each([
    // [zeroMethod, correction, statistic, p]: stats.wilcoxon(B, zero_method=zm, method="approx"[, correction=True])
    ['pratt', false, 22.5, 0.07253004047007486],
    ['pratt', true, 22.5, 0.07768622450170856],
    ['wilcox', false, 16.5, 0.07698581147096221],
    ['wilcox', true, 16.5, 0.08378216611033054],
    ['zsplit', false, 24, 0.07316827009560536],
    ['zsplit', true, 24, 0.07834934258935584],
  ] as const)('zeros and ties, zeroMethod %s, correction %s: SciPy', (zeroMethod, correction, statistic, p) => {
    const r = wilcoxonSignedRank(B, { zeroMethod, correction, method: 'approx' });
    expect(r.statistic).toBe(statistic);
    close(r.pValue, p);
    expect(r.zeros).toBe(2);
    expect(r.n).toBe(14);
  });

  it('ties without zeros: SciPy approx', () => {
    // stats.wilcoxon(D, zero_method="pratt", method="approx") → (16.0, 0.07053701950301099)
    close(wilcoxonSignedRank(D, { method: 'approx' }).pValue, 0.07053701950301099);
  });
});

describe("wilcoxonSignedRank: method 'auto'", () => {
  it('exact for n ≤ 50 without ties and zeros', () => {
    expect(wilcoxonSignedRank(A).method).toBe('exact');
  });
  it('approx for n > 50 (SciPy agrees)', () => {
    // stats.wilcoxon(C) → (625.0, 0.03277204956016548)
    const r = wilcoxonSignedRank(C);
    expect(r.method).toBe('approx');
    expect(r.statistic).toBe(625);
    close(r.pValue, 0.03277204956016548);
  });
  it('approx with zeros (as SciPy) and with ties (SciPy ≥ 1.15 for n > 13; see README)', () => {
    const b = wilcoxonSignedRank(B);
    expect(b.method).toBe('approx');
    close(b.pValue, 0.07253004047007486);
    expect(wilcoxonSignedRank(D).method).toBe('approx');
    expect(wilcoxonSignedRank(E).method).toBe('approx');
    // stats.wilcoxon(E, zero_method="pratt", method="approx") → (9.0, 0.06619257972219345)
    close(wilcoxonSignedRank(E).pValue, 0.06619257972219345);
  });
});

describe('wilcoxonSignedRank: properties and edge cases', () => {
  it('all-zero differences give p = 1 (SciPy raises for pratt/wilcox, gives 1 for zsplit)', () => {
    // stats.wilcoxon(np.zeros(5), zero_method="zsplit", method="approx") → (7.5, 1.0)
    expect(wilcoxonSignedRank([0, 0, 0, 0, 0], { zeroMethod: 'zsplit' })).toMatchObject({ statistic: 7.5, pValue: 1, zeros: 5 });
    for (const zeroMethod of ['pratt', 'wilcox'] as const) {
      for (const method of ['auto', 'exact', 'approx'] as const) {
        const r = wilcoxonSignedRank([0, 0, 0], { zeroMethod, method });
        expect(r.pValue).toBe(1);
        expect(r.statistic).toBe(0);
      }
    }
  });

  it('negating the differences keeps the statistic and p; p-values lie in [0, 1]', () => {
    for (const d of [A, B, C, D, E, [5], [-1, 1], [3, 3, 3]]) {
      for (const zeroMethod of ['pratt', 'wilcox', 'zsplit'] as const) {
        for (const method of ['auto', 'exact', 'approx'] as const) {
          for (const correction of [false, true]) {
            const r = wilcoxonSignedRank(d, { zeroMethod, method, correction });
            const s = wilcoxonSignedRank(d.map((x) => -x), { zeroMethod, method, correction });
            expect(s.statistic).toBe(r.statistic);
            expect(s.pValue).toBeCloseTo(r.pValue, 14);
            expect(r.pValue).toBeGreaterThanOrEqual(0);
            expect(r.pValue).toBeLessThanOrEqual(1);
          }
        }
      }
    }
  });

  it('one positive difference: exact p = 1 (R+ = 1 of {0, 1}); all n positive: p = 2/2ⁿ', () => {
    expect(wilcoxonSignedRank([5]).pValue).toBe(1);
    expect(wilcoxonSignedRank([1, 2, 3, 4, 5, 6]).pValue).toBe(2 / 64);
  });

  it('rejects bad input, naming the argument', () => {
    expect(() => wilcoxonSignedRank([])).toThrow(/differences must hold at least one value/);
    expect(() => wilcoxonSignedRank([1, NaN])).toThrow(/differences\[1\] is NaN/);
    expect(() => wilcoxonSignedRank([1], { zeroMethod: 'drop' as never })).toThrow(/opts.zeroMethod must be one of 'pratt', 'wilcox', 'zsplit'/);
    expect(() => wilcoxonSignedRank([1], { method: 'asymptotic' as never })).toThrow(/opts.method must be one of/);
    expect(() => wilcoxonSignedRank([1], { correction: 1 as never })).toThrow(/opts.correction must be a boolean/);
  });
});
