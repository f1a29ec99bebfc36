import { describe, expect, it } from 'vitest';
import { nemenyiCD, ptukey, qtukey } from '../src';

// Reference values: test/reference/scipy_values.py (SciPy 1.10.1, stats.studentized_range,
// whose own quadrature is good to about 1e-11).
const SQRT2 = Math.SQRT2;

describe('ptukey', () => {
  it('k = 2, df = ∞ by hand: Q = |Z₁ − Z₂| = √2·|N(0,1)|, so P(Q ≤ 2) = P(|N| ≤ √2) = erf(1)', () => {
    // erf(1) = 0.8427007929497149 ; stats.studentized_range.cdf(2.0, 2, inf) → 0.8427007929497148
    expect(ptukey(2, 2)).toBeCloseTo(0.8427007929497149, 12);
  });

  it.each([
    // [q, k, df, stats.studentized_range.cdf(q, k, df)]
    [3.314, 3, Infinity, 0.94995585959389],
    [3.0, 20, Infinity, 0.15374353380562766],
    [1.0, 5, Infinity, 0.04504514481135578],
    [3.5, 3, 10, 0.9228966891615896],
    [3.5, 3, 1, 0.6401247303639486],
    [4.0, 5, 20, 0.9304128560769541],
    [10.0, 4, 2, 0.9519174994108556],
    [100.0, 2, 1, 0.9909974369772916],
    [5.0, 10, 5, 0.8333484976385733],
    [2.5, 2, 1000, 0.9225952239002486],
    [4.5, 6, 120, 0.9775868488071905],
  ])('cdf(%d, k = %i, df = %d) as SciPy', (q, k, df, p) => {
    expect(Math.abs(ptukey(q, k, df) - p)).toBeLessThan(1e-10);
  });

  it('is 0 at 0, increases, tends to 1, and lies in [0, 1]', () => {
    expect(ptukey(0, 3)).toBe(0);
    expect(ptukey(Infinity, 3, 5)).toBe(1);
    for (const df of [Infinity, 3]) {
      let prev = 0;
      for (let q = 0.25; q <= 12; q += 0.25) {
        const p = ptukey(q, 4, df);
        expect(p).toBeGreaterThanOrEqual(prev);
        expect(p).toBeLessThanOrEqual(1);
        prev = p;
      }
      expect(prev).toBeGreaterThan(0.98); // df = 3 has heavy tails: ptukey(12, 4, 3) ≈ 0.9896
    }
  });

  it('tends to the df = ∞ value as df grows', () => {
    expect(Math.abs(ptukey(3.5, 4, 1e7) - ptukey(3.5, 4))).toBeLessThan(1e-7);
  });

  it('rejects bad arguments', () => {
    expect(() => ptukey(NaN, 3)).toThrow(/q must be a number/);
    expect(() => ptukey(1, 1)).toThrow(/k \(number of means\) must be an integer ≥ 2/);
    expect(() => ptukey(1, 3, 0.5)).toThrow(/df must be a number ≥ 1 or Infinity/);
  });
});

describe('qtukey', () => {
  it('k = 2, df = ∞ by hand: √2 times the normal quantile, q₀.₉₅ = √2·1.959963984540054', () => {
    expect(qtukey(0.95, 2)).toBeCloseTo(SQRT2 * 1.959963984540054, 10);
  });
  it('k = 2, df = 1 by hand: Q/√2 = |t₁| (Cauchy), whose median is 1, so the median of Q is √2', () => {
    // stats.studentized_range.ppf(0.5, 2, 1) → 1.4142135623730947
    expect(qtukey(0.5, 2, 1)).toBeCloseTo(SQRT2, 9);
  });

  it('df = ∞, k = 2..10, as SciPy', () => {
    // stats.studentized_range.ppf(p, k, inf) for k = 2..10
    const ref: Record<number, number[]> = {
      0.95: [2.771807648699355, 3.314493155398122, 3.6331595749026278, 3.857655510378623, 4.030092053180576, 4.169554155006547, 4.286309409349043, 4.38650911549537, 4.474124221725907],
      0.9: [2.3261743073533476, 2.9023802134282515, 3.240446220927359, 3.478280550703068, 3.660720941720752, 3.8080982570260042, 3.9313491004685965, 4.037023130237707, 4.129346398236873],
    };
    for (const p of [0.95, 0.9]) ref[p].forEach((q, i) => expect(Math.abs(qtukey(p, i + 2) - q)).toBeLessThan(1e-9));
  });

  it('df = ∞: the df = ∞ row of the classic three-decimal tables of q', () => {
    const q05 = [2.772, 3.314, 3.633, 3.858, 4.03, 4.17, 4.286, 4.387, 4.474];
    const q10 = [2.326, 2.902, 3.24, 3.478, 3.661, 3.808, 3.931, 4.037, 4.129];
    q05.forEach((q, i) => expect(+qtukey(0.95, i + 2).toFixed(3)).toBe(q));
    q10.forEach((q, i) => expect(+qtukey(0.9, i + 2).toFixed(3)).toBe(q));
  });

  it.each([
    // [p, k, df, stats.studentized_range.ppf(p, k, df)]
    [0.95, 3, 10, 3.876776750013158],
    [0.99, 5, 2, 24.717186201322377],
    [0.95, 4, 30, 3.8454013530425217],
  ])('ppf(%d, k = %i, df = %i) as SciPy', (p, k, df, q) => {
    expect(Math.abs(qtukey(p, k, df) - q)).toBeLessThan(1e-8 * q);
  });

  it('inverts ptukey', () => {
    for (const [p, k, df] of [[0.05, 3, Infinity], [0.5, 7, 12], [0.999, 4, Infinity]]) {
      expect(ptukey(qtukey(p, k, df), k, df)).toBeCloseTo(p, 10);
    }
  });

  it('rejects bad arguments', () => {
    expect(() => qtukey(1, 3)).toThrow(/p must be in \(0, 1\)/);
    expect(() => qtukey(0.5, 2.5)).toThrow(/k \(number of means\) must be an integer ≥ 2/);
    expect(() => qtukey(0.5, 3, 0)).toThrow(/df must be a number ≥ 1 or Infinity/);
  });
});

describe('nemenyiCD', () => {
  it('q_α = qtukey(1 − α, k, ∞)/√2 reproduces Demšar (2006) Table 5a', () => {
    // Demšar's values are the three-decimal q's divided by √2 and rounded again, so they can sit
    // up to 0.001 off the exact q/√2 (k = 3: 3.314/√2 = 2.3434 → 2.343, exact 2.34370); redoing
    // his two roundings gives every entry exactly.
    const q05 = [1.96, 2.343, 2.569, 2.728, 2.85, 2.949, 3.031, 3.102, 3.164];
    const q10 = [1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.78, 2.855, 2.92];
    const demsar = (q: number) => +(+q.toFixed(3) / SQRT2).toFixed(3);
    for (let k = 2; k <= 10; k++) {
      expect(demsar(qtukey(0.95, k))).toBe(q05[k - 2]);
      expect(demsar(qtukey(0.9, k))).toBe(q10[k - 2]);
      expect(Math.abs(qtukey(0.95, k) / SQRT2 - q05[k - 2])).toBeLessThanOrEqual(0.001);
      expect(Math.abs(qtukey(0.9, k) / SQRT2 - q10[k - 2])).toBeLessThanOrEqual(0.001);
      // n = 10: CD = q_α · √(k(k+1)/60).
      expect(nemenyiCD(k, 10)).toBeCloseTo((qtukey(0.95, k) / SQRT2) * Math.sqrt((k * (k + 1)) / 60), 12);
      expect(nemenyiCD(k, 10, 0.1)).toBeCloseTo((qtukey(0.9, k) / SQRT2) * Math.sqrt((k * (k + 1)) / 60), 12);
    }
  });

  it("Demšar's example: k = 4, N = 14 → CD = 2.569·√(4·5/(6·14)) ≈ 1.25", () => {
    const cd = nemenyiCD(4, 14);
    expect(+cd.toFixed(2)).toBe(1.25);
    expect(cd).toBeCloseTo((qtukey(0.95, 4) / SQRT2) * Math.sqrt(20 / 84), 12);
    expect(nemenyiCD(4, 14, 0.1)).toBeLessThan(cd);
  });

  it('rejects bad arguments', () => {
    expect(() => nemenyiCD(1, 10)).toThrow(/k must be an integer ≥ 2/);
    expect(() => nemenyiCD(3, 0)).toThrow(/n must be an integer ≥ 1/);
    expect(() => nemenyiCD(3, 10, 0)).toThrow(/alpha must be in \(0, 1\)/);
  });
});
