import { describe, expect, it } from 'vitest';
import { averageRanks, median, pearson, quantileSorted, spearman } from '../src';

// The functions copied from @ceb/eval (their own tests are in stats.test.ts): input checks added here.
describe('checks added to the functions copied from @ceb/eval', () => {
  it('quantileSorted: q in [0, 1], values ascending; the ends are the extremes', () => {
    expect(quantileSorted([1, 2, 3], 0)).toBe(1);
    expect(quantileSorted([1, 2, 3], 1)).toBe(3);
    expect(quantileSorted([], 0.5)).toBeNaN();
    expect(() => quantileSorted([1, 2], 1.5)).toThrow(/q must be in \[0, 1\]/);
    expect(() => quantileSorted([2, 1], 0.5)).toThrow(/sorted must be in ascending order/);
    expect(() => quantileSorted([1, NaN], 0.5)).toThrow(/sorted must be in ascending order without NaN/);
  });
  it('median rejects NaN and empty input', () => {
    expect(() => median([1, NaN])).toThrow(/values\[1\] is NaN/);
    expect(() => median([])).toThrow(/empty/);
  });
  it('averageRanks rejects NaN; infinities rank at the ends', () => {
    expect(Array.from(averageRanks([Infinity, -Infinity, 0, Infinity]))).toEqual([3.5, 1, 2, 3.5]);
    expect(() => averageRanks([1, NaN])).toThrow(/values\[1\] is NaN/);
  });
  it('pearson: hand-worked r, and rejects non-finite values', () => {
    // a = [1, 2, 3], b = [1, 3, 2]: deviations (−1, 0, 1) and (−1, 1, 0): r = 1/√(2·2) = 0.5.
    expect(pearson([1, 2, 3], [1, 3, 2])).toBeCloseTo(0.5, 15);
    expect(() => pearson([1, Infinity], [1, 2])).toThrow(/a\[1\] is Infinity/);
    expect(() => pearson([1, 2], [NaN, 2])).toThrow(/b\[0\] is NaN/);
    expect(spearman([1, Infinity, 3], [1, 2, 3])).toBeCloseTo(0.5, 15); // ranks (1, 3, 2) vs (1, 2, 3)
  });
});
