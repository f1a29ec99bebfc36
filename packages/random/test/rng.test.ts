import { describe, expect, it } from 'vitest';
import { Rng, sample, shuffle, subSeed } from '../src';

describe('Rng (mulberry32)', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.next())(new Rng(42)));
    const b = Array.from({ length: 5 }, ((r) => () => r.next())(new Rng(42)));
    const c = Array.from({ length: 5 }, ((r) => () => r.next())(new Rng(43)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('gives uniform floats in [0, 1): each of 10 bins holds about a tenth', () => {
    const r = new Rng(7);
    const bins = new Array(10).fill(0);
    const n = 100_000;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
      bins[Math.floor(x * 10)]++;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // Binomial sd = sqrt(n·0.1·0.9) ≈ 95; 5 sd ≈ 475.
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(475);
  });

  it('shuffles without bias: all 6 orders of 3 items about equally often', () => {
    const r = new Rng(1);
    const counts = new Map<string, number>();
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      const k = r.shuffle(['a', 'b', 'c']).join('');
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    // Each order expected n/6 = 10000, sd ≈ 91.
    for (const c of counts.values()) expect(Math.abs(c - n / 6)).toBeLessThan(500);
  });

  it('shuffle returns a permutation and leaves the input alone', () => {
    const input = Array.from({ length: 50 }, (_, i) => i);
    const out = shuffle(input, 3);
    expect(input).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...out].sort((x, y) => x - y)).toEqual(input);
    expect(out).not.toEqual(input);
  });

  it('sample draws k distinct items from the input', () => {
    const input = Array.from({ length: 20 }, (_, i) => `s${i}`);
    const s = sample(input, 7, 11);
    expect(s).toHaveLength(7);
    expect(new Set(s).size).toBe(7);
    for (const x of s) expect(input).toContain(x);
    expect(sample(input, 50, 11)).toHaveLength(20);
    expect(sample(input, 7, 11)).toEqual(s);
  });

  it('int stays in range and hits every value', () => {
    const r = new Rng(5);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const v = r.int(6);
      expect(Number.isInteger(v) && v >= 0 && v < 6).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(6);
    expect(() => r.int(0)).toThrow(/positive integer/);
  });
});

describe('normals and sub-streams', () => {
  it('normals(): mean ≈ 0 and standard deviation ≈ std over 20,000 draws, seeded', () => {
    const xs = new Rng(5).normals(20000, 2);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    // Standard errors: 2/√n ≈ 0.014 for the mean, 4·√(2/n) ≈ 0.04 for the variance (4).
    expect(Math.abs(mean)).toBeLessThan(0.06);
    expect(Math.abs(variance - 4)).toBeLessThan(0.16);
    expect(Array.from(new Rng(5).normals(3, 2))).toEqual(Array.from(xs.subarray(0, 3)));
    // Box–Muller by hand for the first pair: r = √(−2 ln(1 − u₁))·2, a = 2π·u₂.
    const r = new Rng(5);
    const u1 = r.next();
    const u2 = r.next();
    const rad = Math.sqrt(-2 * Math.log(1 - u1)) * 2;
    expect(xs[0]).toBeCloseTo(rad * Math.cos(2 * Math.PI * u2), 5);
    expect(xs[1]).toBeCloseTo(rad * Math.sin(2 * Math.PI * u2), 5);
  });

  it('subSeed gives distinct streams per stream index and per seed', () => {
    const seeds = new Set([0, 1, 2].flatMap((s) => [0, 1, 2].map((k) => subSeed(s, k))));
    expect(seeds.size).toBe(9);
  });
});
