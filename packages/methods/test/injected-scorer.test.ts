// Perturbation methods on injected scorers whose exact attributions are known.
import { describe, expect, it } from 'vitest';
import { resizeBilinear } from '@ceb/core';
import { kernelShap, gridCoalitionValue, occlusionImage, occlusionText, riseImage, riseText, windowStarts, type MaskScorer } from '../src/index';
import { maxAbsDiff } from './helpers/fixtures';

/** score(mask) = c + Σ w_i·mask_i (a linear model of the masked input). */
function linearScorer(w: ArrayLike<number>, c = 0): MaskScorer & { calls: number } {
  const s = {
    maskSize: w.length,
    calls: 0,
    score(masks: Float32Array, n: number) {
      s.calls += n;
      const out = new Float32Array(n);
      for (let k = 0; k < n; k++) {
        let v = c;
        for (let i = 0; i < w.length; i++) v += w[i] * masks[k * w.length + i];
        out[k] = v;
      }
      return out;
    },
  };
  return s;
}

function minMax(v: ArrayLike<number>): number[] {
  const lo = Math.min(...Array.from(v));
  const hi = Math.max(...Array.from(v));
  return Array.from(v, (x) => (x - lo) / (hi - lo));
}

describe('RISE', () => {
  it('text: with independent keep-masks E[score·m_i]/p = (1−p)·w_i + p·Σw + c, so the map converges to minmax(w)', async () => {
    const w = [0.5, -1, 2, 0.1, 1.2, -0.3];
    const scorer = linearScorer([0, ...w, 0], 0.7); // BOS, caption, EOS
    const p = 0.5;
    const sal = await riseText(scorer, { masks: 20000, keepProb: p, seed: 1 });
    const sum = w.reduce((a, b) => a + b, 0);
    const expected = w.map((wi) => (1 - p) * wi + p * sum + 0.7);
    // Unnormalised: each estimate within 4 standard errors (σ of score·m/p ≲ 4 here, √20000 ≈ 141).
    for (let i = 0; i < w.length; i++) expect(Math.abs(sal[i] - expected[i])).toBeLessThan(0.12);
    expect(maxAbsDiff(minMax(sal), minMax(w))).toBeLessThan(0.05);
  });

  it('image: converges to the exact expectation p·Σw + (1−p)·Σ_q w_q·K(·, q) of bilinear masks with random shifts', async () => {
    const S = 16;
    const cells = 4;
    const p = 0.3;
    const w = new Float64Array(S * S);
    for (let y = 3; y < 8; y++) for (let x = 9; x < 14; x++) w[y * S + x] = 1;
    w[12 * S + 2] = 3;
    const sal = await riseImage(linearScorer(w), S, { masks: 30000, cells, keepProb: p, seed: 2 });
    // Independently: a mask is Σ_a b_a·φ_a(shifted pixel), with φ_a the bilinear weights of grid node a
    // (Σ_a φ_a = 1) and b_a ~ Bernoulli(p), so E[m_x m_q] = p² + p(1−p)·E_shift[Σ_a φ_a(x)φ_a(q)].
    const cell = Math.ceil(S / cells);
    const up = (cells + 1) * cell;
    const phi: Float32Array[] = [];
    for (let a = 0; a < cells * cells; a++) {
      const onehot = new Float32Array(cells * cells);
      onehot[a] = 1;
      phi.push(resizeBilinear(onehot, cells, cells, up, up));
    }
    const W = w.reduce((s, v) => s + v, 0);
    const expected = new Float64Array(S * S);
    for (let dy = 0; dy < cell; dy++) {
      for (let dx = 0; dx < cell; dx++) {
        for (const f of phi) {
          let fw = 0;
          for (let q = 0; q < S * S; q++) if (w[q]) fw += w[q] * f[(Math.floor(q / S) + dy) * up + (q % S) + dx];
          for (let x = 0; x < S * S; x++) expected[x] += ((1 - p) * f[(Math.floor(x / S) + dy) * up + (x % S) + dx] * fw) / (cell * cell);
        }
      }
    }
    for (let x = 0; x < S * S; x++) expected[x] += p * W;
    expect(maxAbsDiff(minMax(sal), minMax(expected))).toBeLessThan(0.06);
  });

  it('is deterministic per seed', async () => {
    const w = Array.from({ length: 64 }, (_, i) => Math.sin(i));
    const a = await riseImage(linearScorer(w), 8, { masks: 50, cells: 2, keepProb: 0.5, seed: 9 });
    const b = await riseImage(linearScorer(w), 8, { masks: 50, cells: 2, keepProb: 0.5, seed: 9 });
    const c = await riseImage(linearScorer(w), 8, { masks: 50, cells: 2, keepProb: 0.5, seed: 10 });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(maxAbsDiff(a, c)).toBeGreaterThan(1e-3);
  });
});

describe('KernelSHAP', () => {
  it('all coalitions enumerated: exact Shapley values of a game with interactions', async () => {
    // v(z) = z0·z1 + 2·z2·z3·z4 + 0.5·z5 − 1: Shapley values 1/2, 1/2, 2/3, 2/3, 2/3, 1/2.
    const m = 6;
    const value = (z: Uint8Array, n: number) =>
      Array.from({ length: n }, (_, k) => {
        const g = (j: number) => z[k * m + j];
        return g(0) * g(1) + 2 * g(2) * g(3) * g(4) + 0.5 * g(5) - 1;
      });
    const r = await kernelShap(value, m, { samples: 2000, seed: 0 });
    expect(r.exact).toBe(true);
    expect(r.base).toBe(-1);
    expect(maxAbsDiff(r.phi, [0.5, 0.5, 2 / 3, 2 / 3, 2 / 3, 0.5])).toBeLessThan(1e-4);
  });

  it('sampled coalitions: close to the exact Shapley values, efficiency exact', async () => {
    const m = 14; // 2^14 − 2 > 3000: sampled
    const value = (z: Uint8Array, n: number) =>
      Array.from({ length: n }, (_, k) => {
        const g = (j: number) => z[k * m + j];
        return 3 * g(0) * g(1) + g(2) * g(3) * g(4) - g(5) + 0.2 * g(13);
      });
    const r = await kernelShap(value, m, { samples: 3000, seed: 4 });
    expect(r.exact).toBe(false);
    const truth = [1.5, 1.5, 1 / 3, 1 / 3, 1 / 3, -1, 0, 0, 0, 0, 0, 0, 0, 0.2];
    expect(maxAbsDiff(r.phi, truth)).toBeLessThan(0.1);
    expect(r.phi.reduce((a, b) => a + b, 0)).toBeCloseTo(r.full - r.base, 9);
  });

  it('image over a grid, linear scorer: φ_cell = Σ_{pixels in cell} w_p (exact for a linear model, sampled or not)', async () => {
    const S = 12;
    const g = 4;
    const w = Array.from({ length: S * S }, (_, i) => Math.cos(i * 0.7) + (i % 5) * 0.1);
    const r = await kernelShap(gridCoalitionValue(linearScorer(w, 0.3), S, g), g * g, { samples: 500, seed: 1 });
    expect(r.exact).toBe(false);
    const truth = new Array(g * g).fill(0);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) truth[Math.floor(y / 3) * g + Math.floor(x / 3)] += w[y * S + x];
    expect(maxAbsDiff(r.phi, truth)).toBeLessThan(1e-3);
  });
});

describe('occlusion', () => {
  it('window starts cover the border', async () => {
    expect(windowStarts(32, 8, 4)).toEqual([0, 4, 8, 12, 16, 20, 24]);
    expect(windowStarts(10, 4, 4)).toEqual([0, 4, 6]);
    expect(() => windowStarts(10, 12, 4)).toThrow(/window 12/);
  });

  it('image: a single important pixel gives the hand-computed mean drops', async () => {
    const S = 32;
    const w = new Float64Array(S * S);
    w[10 * S + 10] = 2;
    const m = await occlusionImage(linearScorer(w, 1), S, 8, 4);
    // Pixel (10,10): its 4 windows (starts 4, 8 on both axes) all hold the pixel → drop 2.
    expect(m[10 * S + 10]).toBeCloseTo(2, 6);
    // Pixel (5,5): windows from starts {0,4}²; only (4,4) holds (10,10) → 2/4.
    expect(m[5 * S + 5]).toBeCloseTo(0.5, 6);
    // Pixel (30,30): no window over it reaches (10,10).
    expect(m[30 * S + 30]).toBe(0);
  });

  it('text: the drop of removing token j alone is w_j', async () => {
    const w = [0.2, -0.5, 1.5, 0.7];
    const d = await occlusionText(linearScorer([9, ...w, 9], 0.1));
    expect(maxAbsDiff(d, w)).toBeLessThan(1e-6);
  });
});
