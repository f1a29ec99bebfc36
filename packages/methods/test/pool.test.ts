// Methods on a worker pool of 2 threads against the same methods on one thread, same seed.
// RISE, occlusion and KernelSHAP share out batches of masked inputs: each row's score is
// computed by the same kernels, so their maps are equal to the last bit.
// M2IB with its copies shared over a worker pool equals M2IB on one thread for the same seed:
// the noise is drawn on the main thread from the seed as before and only the order of the
// sum over copies changes (float32 within a share, float64 across shares). That sum is the one
// reassociated: after 4 Adam steps the capacity differs by 6e-8 relative, the fit by 7e-8 and
// the min-max maps by 5e-7 here; the test allows 1e-6 (capacity, relative; fit) and 1e-5 (map:
// min-max divides by the range). Adam's first step moves each logit by ≈ lr·sign(g), so a
// gradient component at ~0 could flip sign and break this: none does on this pair.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadClip, PairCache, WorkerPool, type ClipModel } from '@ceb/core';
import { m2ibWithNoise, type M2ibTrace } from '../src/m2ib';
import { rise } from '../src/rise';
import { occlusion } from '../src/occlusion';
import { kernelshap } from '../src/kernelshap';
import type { AnyExplainer } from '../src/registry';
import { CLIP_FIXTURE_DIR, maxAbsDiff } from './helpers/fixtures';

let model: ClipModel;
let cache: PairCache;
let pool: WorkerPool;
const traced = m2ibWithNoise(undefined, { trace: true });
const options = { layer: 1, steps: 4, copies: 5, seed: 11 };

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadClip(CLIP_FIXTURE_DIR);
  const s = model.config.vision.imageSize;
  const { bosTokenId: bos, eosTokenId: eos } = model.config.text;
  cache = new PairCache(model, { pixels: tf.randomNormal([1, 3, s, s], 0, 1, 'float32', 5) as tf.Tensor4D, ids: [bos, 310, 420, 530, eos] });
  // Every state and embedding is in the cache before the tensor counts below.
  cache.imageEmbedding();
  cache.textEmbedding();
  pool = await WorkerPool.start(model, { threads: 2 });
});
afterAll(async () => {
  await pool?.close();
  cache?.pair.pixels.dispose();
  cache?.dispose();
  model?.dispose();
});

const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => maxAbsDiff(a, b) / Math.max(...Array.from(b, Math.abs));

describe('M2IB on a worker pool', () => {
  it.each(['image', 'text'] as const)('%s: the same map, capacity and fit trace as one thread for the same seed', async (side) => {
    const one = await traced.explain({ model, pair: cache.pair, cache }, side, options);
    const before = tf.memory().numTensors;
    const two = await traced.explain({ model, pair: cache.pair, cache, pool }, side, options);
    expect(tf.memory().numTensors).toBe(before);
    const [t1, t2] = [one.extra!.trace as M2ibTrace, two.extra!.trace as M2ibTrace];
    expect(relDiff(t2.capacity, t1.capacity)).toBeLessThan(1e-6);
    expect(maxAbsDiff(t2.fit, t1.fit)).toBeLessThan(1e-6);
    expect(maxAbsDiff(two.scores, one.scores)).toBeLessThan(1e-5);
    // The mask logits moved (the test compares fits, not two untouched initial masks).
    expect(maxAbsDiff(t1.alphaFinal, new Float32Array(t1.alphaFinal.length).fill(5))).toBeGreaterThan(0.5);
  });

  it('a different seed gives a different map (the pool does not replay one noise)', async () => {
    const a = await traced.explain({ model, pair: cache.pair, cache, pool }, 'image', options);
    const b = await traced.explain({ model, pair: cache.pair, cache, pool }, 'image', { ...options, seed: 12 });
    expect(maxAbsDiff(a.scores, b.scores)).toBeGreaterThan(1e-3);
  });
});

describe('perturbation methods on a worker pool', () => {
  const cases: [string, 'image' | 'text', AnyExplainer, Record<string, unknown>][] = [
    ['rise', 'image', rise, { masks: 16, batchSize: 8, seed: 4 }],
    ['rise', 'text', rise, { textMasks: 30, batchSize: 8, seed: 4 }],
    ['occlusion', 'image', occlusion, { window: 64, stride: 48, batchSize: 4 }],
    ['kernelshap', 'text', kernelshap, { samples: 20, batchSize: 4, seed: 2 }],
  ];
  it.each(cases)('%s, %s side: the pooled map equals the one-thread map for the same seed', async (_name, side, method, o) => {
    const one = await method.explain({ model, pair: cache.pair, cache }, side, o);
    const two = await method.explain({ model, pair: cache.pair, cache, pool }, side, o);
    expect(one.flat).toBe(false);
    expect(Array.from(two.scores)).toEqual(Array.from(one.scores));
  });
});
