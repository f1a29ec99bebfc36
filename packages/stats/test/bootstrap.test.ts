import { describe, expect, it } from 'vitest';
import { Rng } from '@ceb/random';
import { meanCI, pairedBootstrapCI } from '../src';

const a = Array.from({ length: 25 }, (_, i) => ((i * 7919) % 31) / 31);
const b = Array.from({ length: 25 }, (_, i) => ((i * 104729) % 37) / 37);

describe('pairedBootstrapCI', () => {
  it('is the mean of a − b with an interval around it', () => {
    // a − b = [0.5, 0.25, −0.5] → mean 0.25/3.
    const ci = pairedBootstrapCI([1, 0.5, 0], [0.5, 0.25, 0.5], { seed: 1 });
    expect(ci.mean).toBeCloseTo(0.25 / 3, 15);
    expect(ci.n).toBe(3);
    expect(ci.lo).toBeLessThanOrEqual(ci.mean);
    expect(ci.hi).toBeGreaterThanOrEqual(ci.mean);
  });

  it('resamples pairs: identical to the bootstrap of the differences with the same seed', () => {
    const d = a.map((x, i) => x - b[i]);
    expect(pairedBootstrapCI(a, b, { seed: 9, resamples: 500 })).toEqual(meanCI(d, { seed: 9, resamples: 500 }));
  });

  it('keeps the pairing: a constant shift gives a zero-width interval however spread the values', () => {
    // Resampling a and b independently would give a wide interval; pairs keep every difference at 0.3.
    const ci = pairedBootstrapCI(a.map((x) => x + 0.3), a, { seed: 2 });
    expect(ci.hi - ci.lo).toBeLessThan(1e-12);
    expect(ci.mean).toBeCloseTo(0.3, 12);
  });

  it('swapping a and b negates the mean and mirrors the interval', () => {
    const ab = pairedBootstrapCI(a, b, { seed: 4 });
    const ba = pairedBootstrapCI(b, a, { seed: 4 });
    expect(ba.mean).toBe(-ab.mean);
    expect(ba.lo).toBeCloseTo(-ab.hi, 12);
    expect(ba.hi).toBeCloseTo(-ab.lo, 12);
  });

  it('is seeded and narrows with the level', () => {
    const x = pairedBootstrapCI(a, b, { seed: 5 });
    expect(pairedBootstrapCI(a, b, { seed: 5 })).toEqual(x);
    expect(pairedBootstrapCI(a, b, { seed: 6 })).not.toEqual(x);
    const y = pairedBootstrapCI(a, b, { seed: 5, level: 0.5 });
    expect(y.hi - y.lo).toBeLessThan(x.hi - x.lo);
  });

  it('gives NaNs for no pairs, as meanCI does', () => {
    expect(pairedBootstrapCI([], [], { seed: 1 })).toEqual({ mean: NaN, lo: NaN, hi: NaN, n: 0 });
  });

  it('rejects bad input, naming the argument', () => {
    expect(() => pairedBootstrapCI([1, 2], [1], { seed: 1 })).toThrow(/a and b must have the same length/);
    expect(() => pairedBootstrapCI([1, NaN], [1, 2], { seed: 1 })).toThrow(/a\[1\] is NaN/);
    expect(() => pairedBootstrapCI([1, 2], [1, Infinity], { seed: 1 })).toThrow(/b\[1\] is Infinity/);
    expect(() => pairedBootstrapCI([1], [1], { seed: NaN })).toThrow(/opts.seed must be a finite number/);
    expect(() => pairedBootstrapCI([1], [1], { seed: 1, level: 1 })).toThrow(/level must be in \(0, 1\)/);
    expect(() => pairedBootstrapCI([1], [1], { seed: 1, resamples: 0 })).toThrow(/resamples must be a positive integer/);
  });
});

describe('meanCI keeps @ceb/eval numbers', () => {
  it('same Rng order: a 2-value bootstrap with 4 resamples by hand', () => {
    // Rng(11).int(2) eight times decides the four resamples of [0, 10]; recompute them here.
    // This pins the draw order (resample-major, one rng.int(n) per value).
    const rng = new Rng(11);
    const means = Array.from({ length: 4 }, () => ([0, 10][rng.int(2)] + [0, 10][rng.int(2)]) / 2).sort((x, y) => x - y);
    const ci = meanCI([0, 10], { seed: 11, resamples: 4, level: 0.5 });
    // 25% and 75% linear quantiles of 4 sorted values: positions 0.75 and 2.25.
    expect(ci.lo).toBeCloseTo(means[0] * 0.25 + means[1] * 0.75, 12);
    expect(ci.hi).toBeCloseTo(means[2] * 0.75 + means[3] * 0.25, 12);
  });
});
