// M2IB properties beyond the fixture: sigma2 semantics, seeding, no leaks across pairs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadClip, PairCache, type ClipModel } from '@ceb/core';
import { m2ib, m2ibWithNoise, type M2ibTrace } from '../src/m2ib';
import { CLIP_FIXTURE_DIR, maxAbsDiff } from './helpers/fixtures';

let model: ClipModel;
let cache: PairCache;
const layer = 1;

function randomPair(seed: number) {
  const s = model.config.vision.imageSize;
  const pixels = tf.randomNormal([1, 3, s, s], 0, 1, 'float32', seed) as tf.Tensor4D;
  const { bosTokenId: bos, eosTokenId: eos } = model.config.text;
  const ids = [bos, ...Array.from({ length: 6 }, (_, i) => 300 + ((seed * 37 + i * 11) % 400)), eos];
  return { pixels, ids };
}

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadClip(CLIP_FIXTURE_DIR);
  cache = new PairCache(model, randomPair(1));
});
afterAll(() => {
  cache?.pair.pixels.dispose();
  cache?.dispose();
  model?.dispose();
});

describe('sigma2', () => {
  it.each([1, 4, 0.25])('the KL is taken against N(0, %s): with one step the capacity is the closed form at alpha_init', async (sigma2) => {
    const alphaInit = 5;
    const res = await m2ibWithNoise(undefined, { trace: true }).explain({ model, pair: cache.pair, cache }, 'image', { layer, steps: 1, sigma2, alphaInit, seed: 3 });
    const trace = res.extra!.trace as M2ibTrace;
    // KL(N(m, s²) ‖ N(0, σ²)) = log(σ/s) + (s² + m²)/(2σ²) − ½, m = lam·h, s = (1 − lam)·σ, in float64.
    const lam = 1 / (1 + Math.exp(-alphaInit));
    const h = cache.stateAfter('image', layer);
    const [, L, D] = h.shape;
    const hv = h.dataSync();
    const sigma = Math.sqrt(sigma2);
    const s = (1 - lam) * sigma;
    const expected = new Float64Array(L);
    for (let l = 0; l < L; l++) {
      for (let d = 0; d < D; d++) {
        const m = lam * hv[l * D + d];
        expected[l] += Math.log(sigma / s) + (s * s + m * m) / (2 * sigma2) - 0.5;
      }
    }
    const scale = Math.max(...expected);
    expect(maxAbsDiff(trace.capacity, expected)).toBeLessThan(1e-4 * scale);
  });

  it('other values change the map', async () => {
    const ctx = { model, pair: cache.pair, cache };
    const a = await m2ib.explain(ctx, 'image', { layer, seed: 5 });
    const b = await m2ib.explain(ctx, 'image', { layer, seed: 5, sigma2: 4 });
    expect(maxAbsDiff(a.scores, b.scores)).toBeGreaterThan(1e-3);
    const at = await m2ib.explain(ctx, 'text', { layer, seed: 5 });
    const bt = await m2ib.explain(ctx, 'text', { layer, seed: 5, sigma2: 4 });
    expect(maxAbsDiff(at.scores, bt.scores)).toBeGreaterThan(1e-3);
  });
});

describe('seeds', () => {
  it.each(['image', 'text'] as const)('%s: one seed gives identical maps twice; two seeds differ', async (side) => {
    const ctx = { model, pair: cache.pair, cache };
    // Seed 0 (the default) included: tfjs alone would treat it as "unseeded".
    for (const [s1, s2] of [[0, 1], [11, 12]]) {
      const a = await m2ib.explain(ctx, side, { layer, seed: s1 });
      const b = await m2ib.explain(ctx, side, { layer, seed: s1 });
      const c = await m2ib.explain(ctx, side, { layer, seed: s2 });
      expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
      expect(maxAbsDiff(a.scores, c.scores)).toBeGreaterThan(1e-4);
    }
  });
});

describe('layer', () => {
  it('a negative layer counts from the end; the last block is refused (only the pooled token leaves it)', async () => {
    const ctx = { model, pair: cache.pair, cache };
    const n = model.vision.numLayers;
    const a = await m2ib.explain(ctx, 'image', { layer, seed: 2, steps: 2 });
    const b = await m2ib.explain(ctx, 'image', { layer: layer - n, seed: 2, steps: 2 });
    expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
    await expect(m2ib.explain(ctx, 'image', { layer: n - 1 })).rejects.toThrow(/last block/);
    await expect(m2ib.explain(ctx, 'text', { layer: -1 })).rejects.toThrow(/last block/);
    await expect(m2ib.explain(ctx, 'image', { layer: n })).rejects.toThrow(/outside the image tower's blocks/);
  });
});

describe('prefix reuse', () => {
  it('is exact: the official-cost execution (whole model every step) gives the same maps', async () => {
    const ctx = { model, pair: cache.pair, cache };
    for (const side of ['image', 'text'] as const) {
      const fast = await m2ib.explain(ctx, side, { layer, seed: 2 });
      const full = await m2ib.explain(ctx, side, { layer, seed: 2, reusePrefix: false });
      expect(maxAbsDiff(fast.scores, full.scores)).toBeLessThan(1e-5);
    }
  });
});

describe('memory', () => {
  it('the tensor count does not grow across pairs', async () => {
    const run = async (seed: number) => {
      const pair = randomPair(seed);
      const c = new PairCache(model, pair);
      await m2ib.explain({ model, pair, cache: c }, 'image', { layer, steps: 2 });
      await m2ib.explain({ model, pair, cache: c }, 'text', { layer, steps: 2 });
      c.dispose();
      pair.pixels.dispose();
    };
    await run(20); // warms lazily kept tensors (e.g. the causal mask of this length)
    const before = tf.memory().numTensors;
    for (let s = 21; s < 24; s++) await run(s);
    expect(tf.memory().numTensors).toBe(before);
  });
});
