// Every registered method on the clip-tiny fixture and on a copy whose top blocks are
// re-drawn (what the model-randomisation check in packages/eval compares): valid maps,
// maps that follow the model (except the controls, which must not), seeds, no tensor leaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { buildClip, initBackend, PairCache, readClipConfig, readClipWeights, resolveWeightsPath, type Attribution, type ClipModel, type ExplainContext } from '@ceb/core';
import { Rng } from '@ceb/random';
import { METHODS } from '../src/index';
import { CLIP_FIXTURE_DIR, maxAbsDiff } from './helpers/fixtures';

// Small budgets: the point is that every method runs, not the quality of the estimate.
const FAST: Record<string, Record<string, unknown>> = {
  // layer 2: with 2 steps the map mostly reflects the state it bottlenecks, which must be downstream of a re-drawn block.
  // seed 1: core's m2ib seeds its first image step with seed·7919 + 0 = 0, which tfjs reads as "no seed".
  m2ib: { layer: 2, steps: 2, copies: 2, seed: 1 },
  rise: { masks: 16, textMasks: 32, batchSize: 16 },
  occlusion: { window: 112, stride: 56 },
  kernelshap: { samples: 24, grid: 3, batchSize: 26 },
  ig: { steps: 4, batchSize: 4 },
  // layer 2 = the input of block 2, below both re-drawn blocks (NIB's default 9 is beyond this 4-block tower).
  nib: { layer: 2, steps: 3 },
  mfaba: { steps: 3 },
};
const CONTROLS = new Set(['random', 'sobel', 'uniform']);

let model: ClipModel;
let randomised: ClipModel;
let pixels: tf.Tensor4D;
const ids = [998, 320, 41, 777, 505, 12, 999];

beforeAll(async () => {
  await initBackend('wasm');
  const { dict } = await readClipWeights(resolveWeightsPath(CLIP_FIXTURE_DIR));
  const config = readClipConfig(CLIP_FIXTURE_DIR);
  model = buildClip(dict, config, { path: CLIP_FIXTURE_DIR, layout: 'hf', configFrom: 'config.json' });
  // Cascading randomisation of the top two blocks of both towers (seeded, same scale).
  const rng = new Rng(123);
  const other = new Map(dict);
  for (const [k, t] of dict) {
    if (/encoder\.layers\.[23]\./.test(k) && k.endsWith('.weight') && !k.includes('layer_norm')) {
      const data = Float32Array.from(t.data, () => (rng.next() - 0.5) * 0.2);
      other.set(k, { shape: t.shape, data });
    }
  }
  randomised = buildClip(other, config, { path: 'randomised', layout: 'hf', configFrom: 'given' });
  const s = config.vision.imageSize;
  pixels = tf.randomNormal([1, 3, s, s], 0, 1, 'float32', 7) as tf.Tensor4D;
});
afterAll(() => {
  pixels?.dispose();
  model?.dispose();
  randomised?.dispose();
});

async function run(m: ClipModel, name: string, side: 'image' | 'text', extra: Record<string, unknown> = {}): Promise<Attribution> {
  const cache = new PairCache(m, { pixels, ids });
  const ctx: ExplainContext = { model: m, pair: cache.pair, cache };
  try {
    return await METHODS[name].explain(ctx, side, { ...FAST[name], ...extra });
  } finally {
    cache.dispose();
  }
}

function check(a: Attribution, side: 'image' | 'text') {
  expect(a.side).toBe(side);
  expect(a.scores.length).toBe(side === 'image' ? 224 * 224 : ids.length - 2);
  for (const v of a.scores) expect(v >= 0 && v <= 1).toBe(true);
  expect(a.ms).toBeGreaterThanOrEqual(0);
}

const runs = Object.entries(METHODS).flatMap(([name, m]) => m.sides.map((side) => [name, side] as const));

describe.each(runs)('%s / %s', (name, side) => {
  it('gives a valid map on the fixture and on the randomised model; only the controls ignore the weights', async () => {
    const a = await run(model, name, side);
    const b = await run(randomised, name, side);
    check(a, side);
    check(b, side);
    if (CONTROLS.has(name)) {
      expect(maxAbsDiff(a.scores, b.scores)).toBe(0);
    } else {
      expect(a.flat).toBe(false);
      expect(maxAbsDiff(a.scores, b.scores)).toBeGreaterThan(1e-3);
    }
  });

  it('does not leak tensors on a second call, and repeats itself exactly', async () => {
    const first = await run(model, name, side);
    const before = tf.memory().numTensors;
    const second = await run(model, name, side);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbsDiff(second.scores, first.scores)).toBe(0);
  });
});

describe.each(['rise', 'kernelshap', 'random'])('%s seeds', (name) => {
  it.each(['image', 'text'] as const)('%s: another seed gives another map', async (side) => {
    const enumerate = name === 'kernelshap' && side === 'text' ? { samples: 100 } : {};
    const a = await run(model, name, side, { seed: 1, ...enumerate });
    const b = await run(model, name, side, { seed: 2, ...enumerate });
    if (name === 'kernelshap' && side === 'text') {
      // 5 caption tokens: 30 coalitions ≤ samples → all enumerated, so the seed plays no part.
      expect(maxAbsDiff(a.scores, b.scores)).toBe(0);
    } else {
      expect(maxAbsDiff(a.scores, b.scores)).toBeGreaterThan(1e-3);
    }
  });
});

describe('random control', () => {
  it.each(['image', 'text'] as const)('%s: a new draw for each pair, the same draw for the same pair and seed', async (side) => {
    const mapOf = async (px: tf.Tensor4D, pairIds: number[]) => {
      const cache = new PairCache(model, { pixels: px, ids: pairIds });
      try {
        return (await METHODS.random.explain({ model, pair: cache.pair, cache }, side, { seed: 5 })).scores;
      } finally {
        cache.dispose();
      }
    };
    const other = tf.randomNormal(pixels.shape, 0, 1, 'float32', 8) as tf.Tensor4D;
    const otherIds = [998, 320, 41, 778, 505, 12, 999];
    try {
      const a = await mapOf(pixels, ids);
      expect(maxAbsDiff(await mapOf(pixels, ids), a)).toBe(0);
      // Another image, or another caption: another map (so its maximum is not one fixed pixel for the whole set).
      expect(maxAbsDiff(await mapOf(other, ids), a)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(await mapOf(pixels, otherIds), a)).toBeGreaterThan(1e-3);
      // It never looks at the model: the re-drawn copy gives the same map.
      const cache = new PairCache(randomised, { pixels, ids });
      try {
        const r = await METHODS.random.explain({ model: randomised, pair: cache.pair, cache }, side, { seed: 5 });
        expect(maxAbsDiff(r.scores, a)).toBe(0);
      } finally {
        cache.dispose();
      }
    } finally {
      other.dispose();
    }
  });
});
