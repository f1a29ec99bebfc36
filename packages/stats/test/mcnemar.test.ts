import { describe, expect, it } from 'vitest';
import { mcnemarExact, mcnemarFromPaired } from '../src';

// Reference values: test/reference/scipy_values.py (SciPy 1.10.1).
describe('mcnemarExact', () => {
  it('hand-worked: b = 3, c = 10 → 2·P(X ≤ 3), X ~ Bin(13, ½)', () => {
    // P(X ≤ 3) = (1 + 13 + 78 + 286)/2¹³ = 378/8192; doubled: 0.09228515625.
    // stats.binomtest(3, 13, 0.5).pvalue → 0.09228515625
    expect(mcnemarExact(3, 10)).toBeCloseTo(0.09228515625, 14);
    expect(mcnemarExact(10, 3)).toBeCloseTo(0.09228515625, 14);
    // b = 0, c = 5: 2·(1/32) = 0.0625 ; stats.binomtest(0, 5, 0.5).pvalue → 0.0625
    expect(mcnemarExact(0, 5)).toBeCloseTo(0.0625, 15);
  });

  it('is capped at 1, and 1 when there are no discordant pairs', () => {
    // stats.binomtest(10, 20, 0.5).pvalue → 1.0 ; stats.binomtest(0, 1, 0.5).pvalue → 1.0
    expect(mcnemarExact(10, 10)).toBe(1);
    expect(mcnemarExact(1, 0)).toBe(1);
    expect(mcnemarExact(0, 0)).toBe(1);
  });

  it.each([
    // stats.binomtest(min(b, c), b + c, 0.5).pvalue
    [25, 48, 0.009542211425865477],
    [100, 140, 0.01166409231767769],
    [0, 60, 1.734723475976807e-18],
  ])('b = %i, c = %i: SciPy binomtest', (b, c, p) => {
    expect(Math.abs(mcnemarExact(b, c) - p)).toBeLessThanOrEqual(1e-12 * p);
  });

  it('p-values lie in [0, 1] and are symmetric in b, c', () => {
    for (let b = 0; b <= 30; b += 3) {
      for (let c = 0; c <= 30; c += 4) {
        const p = mcnemarExact(b, c);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
        expect(mcnemarExact(c, b)).toBe(p);
      }
    }
  });

  it('rejects counts that are not non-negative integers', () => {
    expect(() => mcnemarExact(-1, 2)).toThrow(/b must be an integer ≥ 0/);
    expect(() => mcnemarExact(1, 2.5)).toThrow(/c must be an integer ≥ 0/);
    expect(() => mcnemarExact(NaN, 2)).toThrow(/b must be an integer/);
  });
});

describe('mcnemarFromPaired', () => {
  it('counts the discordant pairs (0/1 and 0/100 alike)', () => {
    const x = [1, 1, 0, 0, 1, 1, 0];
    const y = [1, 0, 1, 0, 0, 0, 0];
    // b (x 1, y 0) = indices 1, 4, 5 → 3; c (x 0, y 1) = index 2 → 1; p = 2·P(Bin(4, ½) ≤ 1) = 2·5/16.
    expect(mcnemarFromPaired(x, y)).toEqual({ b: 3, c: 1, n: 7, pValue: 0.625 });
    expect(mcnemarFromPaired(x.map((v) => v * 100), y.map((v) => v * 100))).toEqual({ b: 3, c: 1, n: 7, pValue: 0.625 });
  });

  it('rejects other values, mixed scales and unequal lengths', () => {
    expect(() => mcnemarFromPaired([0, 1], [1])).toThrow(/x and y must have the same length/);
    expect(() => mcnemarFromPaired([0, 0.5], [1, 0])).toThrow(/x\[1\] is 0.5; expected 0 or 1 \(or 0 or 100\)/);
    expect(() => mcnemarFromPaired([0, 1], [100, 0])).toThrow(/one scale, 0\/1 or 0\/100/);
  });
});
