// Copied from packages/eval/test/stats.test.ts (the functions moved here from packages/eval/src/stats.ts).
import { describe, expect, it } from 'vitest';
import { averageRanks, meanCI, median, quantileSorted, spearman } from '../src';

describe('spearman', () => {
  it('is 1 for the same order, −1 for the reverse, whatever the scale', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 300, 4000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
  });
  it('uses average ranks for ties (worked by hand: 4.5/√22.5)', () => {
    expect(Array.from(averageRanks([10, 20, 20, 30]))).toEqual([1, 2.5, 2.5, 4]);
    expect(Array.from(averageRanks([5, 5, 5]))).toEqual([2, 2, 2]);
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(4.5 / Math.sqrt(22.5), 12);
  });
  it('is NaN for a constant side, and refuses mismatched lengths', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => spearman([1, 2], [1, 2, 3])).toThrow(/lengths differ/);
  });
});

describe('median (numpy semantics)', () => {
  it('middle value for odd counts, mean of the two middle values for even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('meanCI', () => {
  it('linear quantiles as numpy', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
  });
  it('constant values give a zero-width interval; one value gives itself', () => {
    expect(meanCI([2, 2, 2], { seed: 1 })).toEqual({ mean: 2, lo: 2, hi: 2, n: 3 });
    expect(meanCI([7], { seed: 1 })).toEqual({ mean: 7, lo: 7, hi: 7, n: 1 });
  });
  it('two values {0, 1}: resample means are 0, ½ or 1 with P = ¼, ½, ¼, so the 95% interval is [0, 1]', () => {
    const ci = meanCI([0, 1], { seed: 3 });
    expect(ci.mean).toBe(0.5);
    expect(ci.lo).toBe(0);
    expect(ci.hi).toBe(1);
  });
  it('is seeded, brackets the mean, and narrows with the level', () => {
    const v = Array.from({ length: 30 }, (_, i) => (i * 7919) % 31);
    const a = meanCI(v, { seed: 5 });
    expect(meanCI(v, { seed: 5 })).toEqual(a);
    expect(meanCI(v, { seed: 6 })).not.toEqual(a);
    expect(a.lo).toBeLessThan(a.mean);
    expect(a.hi).toBeGreaterThan(a.mean);
    const b = meanCI(v, { seed: 5, level: 0.5 });
    expect(b.hi - b.lo).toBeLessThan(a.hi - a.lo);
  });
  it('rejects NaN values', () => {
    expect(() => meanCI([1, NaN], { seed: 0 })).toThrow(/value 1 is NaN/);
  });
});
