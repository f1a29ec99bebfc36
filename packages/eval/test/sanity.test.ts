// Model randomisation: model-independent maps do not move, model-dependent maps do, and the
// test runs for every method of the baselines registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadClip, readClipWeights, type ClipModel, type Explainer, type F32Dict, type PairInput } from '@ceb/core';
import { m2ib, METHODS } from '@ceb/methods';
import { randomizeDict, randomizeFromTop, sanityMetric, sanityScore, topBlockPrefixes } from '../src/sanity';
import { CLIP_FIXTURE_DIR, randomPair } from './helpers/fixtures';

let model: ClipModel;
let weights: F32Dict;
let pairs: PairInput[];

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadClip(CLIP_FIXTURE_DIR);
  weights = (await readClipWeights(model.source.path)).dict;
  pairs = [randomPair(model, 1, 4), randomPair(model, 2, 5)];
});
afterAll(() => {
  for (const p of pairs ?? []) p.pixels.dispose();
  model?.dispose();
});

describe('randomising weights', () => {
  it('cascades from the top block of both towers', () => {
    expect(topBlockPrefixes(model, 2)).toEqual([
      'vision_model.encoder.layers.3.',
      'vision_model.encoder.layers.2.',
      'text_model.encoder.layers.3.',
      'text_model.encoder.layers.2.',
    ]);
    expect(topBlockPrefixes(model, 0)).toEqual([]);
    expect(() => topBlockPrefixes(model, 5)).toThrow(/depth 5 is outside 0…4/);
  });
  it('re-draws only the chosen tensors, keeping each tensor\'s mean and std; seeded', () => {
    const prefixes = topBlockPrefixes(model, 1);
    const a = randomizeDict(weights, prefixes, 7);
    const b = randomizeDict(weights, prefixes, 7);
    const key = 'vision_model.encoder.layers.3.mlp.fc1.weight';
    const kept = 'vision_model.encoder.layers.2.mlp.fc1.weight';
    expect(a.get(kept)).toBe(weights.get(kept));
    expect(a.get(key)!.data).toEqual(b.get(key)!.data);
    const orig = weights.get(key)!.data;
    const rnd = a.get(key)!.data;
    const stats = (x: Float32Array) => {
      const m = x.reduce((s, v) => s + v, 0) / x.length;
      return { m, sd: Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / x.length) };
    };
    const so = stats(orig);
    const sr = stats(rnd);
    // 16384 draws: the mean is within a few sd/√n, the std within a few %.
    expect(Math.abs(sr.m - so.m)).toBeLessThan((5 * so.sd) / Math.sqrt(orig.length));
    expect(sr.sd / so.sd).toBeGreaterThan(0.95);
    expect(sr.sd / so.sd).toBeLessThan(1.05);
    let same = 0;
    for (let i = 0; i < orig.length; i++) if (orig[i] === rnd[i]) same++;
    expect(same).toBeLessThan(10);
  });
  it('a randomised model embeds differently; depth 0 is the same model', async () => {
    const r0 = await randomizeFromTop(model, 0, 1, weights);
    const r2 = await randomizeFromTop(model, 2, 1);
    const px = pairs[0].pixels;
    const [e, e0, e2] = [model, r0, r2].map((m) => tf.tidy(() => m.encodeImage(px)).dataSync());
    expect(Array.from(e0)).toEqual(Array.from(e));
    expect(Math.max(...Array.from(e2, (v, i) => Math.abs(v - e[i])))).toBeGreaterThan(1e-2);
    r0.dispose();
    r2.dispose();
  });
  it('the randomised copy keeps the model\'s parity quirks (depth 0 scores text exactly as the original)', async () => {
    const quirky = await loadClip(CLIP_FIXTURE_DIR, { quirks: { textCausalMask: false } });
    const copy = await randomizeFromTop(quirky, 0, 1, weights);
    try {
      expect(copy.quirks).toEqual({ textCausalMask: false });
      const ids = [pairs[0].ids];
      const [a, b] = [quirky, copy].map((m) => tf.tidy(() => m.encodeText(ids)).dataSync());
      expect(Array.from(b)).toEqual(Array.from(a));
    } finally {
      quirky.dispose();
      copy.dispose();
    }
  });
});

describe('sanityScore', () => {
  // A control: a seeded map that never looks at the model.
  const fixedRandom: Explainer<Record<string, never>> = {
    name: 'fixed-random',
    description: 'test control',
    sides: ['image', 'text'],
    options: {},
    async explain(ctx, side) {
      const n = side === 'image' ? ctx.model.config.vision.imageSize ** 2 : ctx.pair.ids.length - 2;
      const scores = Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 1000) / 1000);
      return { method: 'fixed-random', side, scores, shape: [n], ms: 0 };
    },
  };

  it('a model-independent map has correlation 1 at every depth', async () => {
    const r = await sanityScore(fixedRandom, pairs, { model, side: 'image', cascade: [1, 4], weights });
    expect(r.correlation).toEqual([1, 1]);
    expect(r.perPair).toHaveLength(2);
  });

  it('M2IB maps change (image and text): correlation clearly below 1 once every block is re-drawn', async () => {
    const counts: number[] = [];
    // Twice: the first text run adds the original model's causal masks (a per-length cache).
    for (let round = 0; round < 2; round++) {
      for (const side of ['image', 'text'] as const) {
        const r = await sanityScore(m2ib, pairs, { model, side, cascade: [4], weights, options: { layer: 1, steps: 3, copies: 2 } });
        expect(r.correlation[0], side).toBeLessThan(0.9);
      }
      counts.push(tf.memory().numTensors);
    }
    expect(counts[1]).toBe(counts[0]);
    expect(sanityMetric.higherIsBetter.correlation).toBe(false);
  });

  it('runs for every method of the baselines registry, on every side it explains', async () => {
    const cheap: Record<string, Record<string, unknown>> = {
      m2ib: { layer: 1, steps: 2, copies: 2 },
      rise: { masks: 16, textMasks: 16 },
      kernelshap: { samples: 16, grid: 2 },
      occlusion: { window: 112, stride: 112 },
      nib: { layer: 1, steps: 4 },
      ig: { steps: 4 },
      mfaba: { steps: 2 },
    };
    for (const [name, method] of Object.entries(METHODS)) {
      for (const side of method.sides) {
        const r = await sanityScore(method, pairs.slice(0, 1), { model, side, cascade: [4], weights, options: cheap[name] });
        expect(r.cascade, `${name} ${side}`).toEqual([4]);
        expect(r.perPair[0], `${name} ${side}`).toHaveLength(1);
        // Defined unless the map is constant (the uniform control); never outside [−1, 1].
        const v = r.perPair[0][0];
        if (Number.isNaN(v)) expect(r.undefinedPairs[0]).toBe(1);
        else expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-12);
      }
    }
  });
});
