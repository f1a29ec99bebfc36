import { describe, expect, it } from 'vitest';
import { binomialCdf, chiSquareSf, fSf, normalCdf, normalSf } from '../src';

// Reference values: test/reference/scipy_values.py (SciPy 1.10.1).
function close(actual: number, expected: number, rel = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

describe('distribution functions (@stdlib)', () => {
  it('normal', () => {
    close(normalSf(6), 9.865876450376946e-10); // stats.norm.sf(6)
    close(normalCdf(-1.3), 0.09680048458561036); // stats.norm.cdf(-1.3)
    expect(normalCdf(0)).toBe(0.5);
  });
  it('chi-square upper tail, small p kept', () => {
    close(chiSquareSf(9.28, 3), 0.025790724198756772); // stats.chi2.sf(9.28, 3)
    close(chiSquareSf(200, 4), 3.75727673578106e-42, 1e-10); // stats.chi2.sf(200, 4)
    close(chiSquareSf(6, 2), Math.exp(-3)); // df = 2: the exponential with mean 2, by hand
    expect(chiSquareSf(0, 3)).toBe(1);
  });
  it('F upper tail', () => {
    close(fSf(3.69, 3, 39), 0.019744099689488835); // stats.f.sf(3.69, 3, 39)
    close(fSf(40, 2, 10), 1.6935087808430282e-5, 1e-10); // stats.f.sf(40, 2, 10)
    expect(fSf(0, 2, 3)).toBe(1);
    expect(fSf(Infinity, 2, 3)).toBe(0);
  });
  it('binomial', () => {
    close(binomialCdf(7, 30, 0.3), 0.28137670818688093); // stats.binom.cdf(7, 30, 0.3)
    expect(binomialCdf(1, 4, 0.5)).toBeCloseTo(5 / 16, 15); // (1 + 4)/16 by hand
  });
  it('rejects bad arguments', () => {
    expect(() => normalSf(NaN)).toThrow(/normalSf: x must be a number/);
    expect(() => chiSquareSf(1, 0)).toThrow(/chiSquareSf: df must be a finite number > 0/);
    expect(() => fSf(1, 2, -1)).toThrow(/fSf: df2 must be a finite number > 0/);
    expect(() => binomialCdf(1, 2.5, 0.5)).toThrow(/binomialCdf: n must be an integer ≥ 0/);
    expect(() => binomialCdf(1, 3, 1.5)).toThrow(/binomialCdf: p must be in \[0, 1\]/);
  });
});
