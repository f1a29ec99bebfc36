import { describe, expect, it } from 'vitest';
import { blurCHW, curveAuc, gaussianKernel1d, m2ibTextMask, rankDescending, trapezoid } from '../src/perturb';

describe('gaussian blur', () => {
  it('kernel 11, σ 5: exp(−x²/50) normalised', () => {
    const k = gaussianKernel1d(11, 5);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(k[5] / k[0]).toBeCloseTo(Math.exp(25 / 50), 12);
    expect(k[5] / k[4]).toBeCloseTo(Math.exp(1 / 50), 12);
    expect(k[3]).toBeCloseTo(k[7], 15);
  });
  it('an impulse far from the borders becomes the outer product of the 1-D kernel', () => {
    const n = 21;
    const x = new Float32Array(n * n);
    x[10 * n + 10] = 1;
    const out = blurCHW(x, 1, n, n);
    const k = gaussianKernel1d(11, 5);
    expect(out[10 * n + 10]).toBeCloseTo(k[5] * k[5], 7);
    expect(out[7 * n + 12]).toBeCloseTo(k[2] * k[7], 7);
    expect(out[4 * n + 10]).toBe(0);
  });
  it('reflect keeps a constant image constant; zero padding darkens the corner by (Σ half kernel)²', () => {
    const x = new Float32Array(2 * 12 * 12).fill(1);
    const r = blurCHW(x, 2, 12, 12, { padding: 'reflect' });
    for (const v of r) expect(v).toBeCloseTo(1, 6);
    const z = blurCHW(x, 2, 12, 12, { padding: 'zero' });
    const k = gaussianKernel1d(11, 5);
    const half = k.slice(5).reduce((a, b) => a + b, 0);
    expect(z[0]).toBeCloseTo(half * half, 6);
    expect(z[144]).toBeCloseTo(half * half, 6);
  });
  it('reflect does not repeat the edge: 1×3 row, kernel 3', () => {
    const k = gaussianKernel1d(3, 1);
    // Vertically one row reflects onto itself; horizontally x[−1] = x[1].
    const out = blurCHW(Float32Array.from([1, 2, 4]), 1, 1, 3, { size: 3, sigma: 1 });
    expect(out[0]).toBeCloseTo(k[0] * 2 + k[1] * 1 + k[2] * 2, 6);
    expect(out[2]).toBeCloseTo(k[0] * 2 + k[1] * 4 + k[2] * 2, 6);
  });
});

describe('ordering and areas', () => {
  it('ranks by decreasing score, ties by index', () => {
    expect(Array.from(rankDescending([0.1, 0.9, 0.5, 0.9]))).toEqual([1, 3, 2, 0]);
  });
  it('AUC = (Σ s − s₀/2 − s_last/2)/(n − 1)', () => {
    expect(curveAuc([10, 8, 5, 1, 0])).toBeCloseTo(19 / 4, 12);
    expect(curveAuc([1, 1])).toBe(1);
    expect(trapezoid([0, 0.1, 0.3], [1, 1, 0])).toBeCloseTo(0.1 + 0.1, 12);
  });
});

describe('m2ib text masking (official evaluation quirk)', () => {
  it('worked example: median of [0.2, 0.9, 0.5, 0.1] is (0.2+0.5)/2 = 0.35; tokens above it kept, others → 0, BOS/EOS gone', () => {
    expect(m2ibTextMask([998, 5, 6, 7, 8, 999], [0.2, 0.9, 0.5, 0.1])).toEqual([0, 6, 7, 0]);
  });
  it('strictly above: with an odd count the median token itself is replaced, and ties at the median too', () => {
    expect(m2ibTextMask([998, 11, 12, 13, 999], [0.3, 0.3, 0.7])).toEqual([0, 0, 13]);
    expect(m2ibTextMask([998, 11, 12, 13, 999], [0.5, 0.5, 0.5])).toEqual([0, 0, 0]);
  });
  it('refuses scores that do not match the caption', () => {
    expect(() => m2ibTextMask([998, 5, 999], [0.1, 0.2])).toThrow(/2 values for 1 caption tokens/);
  });
});
