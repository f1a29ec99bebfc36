// ROAR's "finetune" probe on a tiny random CLIP (vision width 32, 2 blocks, 64 px, patch 16)
// and a planted signal: the class is the colour of a 32×32 square (2×2 patches) at a seeded
// patch-aligned position; everything else is N(0, 0.5²) noise. The random weights know nothing
// of colours, so whatever the fine-tuned model gets right it learned from the (masked)
// training images. (A one-patch square, or the class coded by which corner is bright, was
// memorised through the noise instead of learned from 64 images by this from-scratch model.)
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, parseClipConfig, randomClip, randomClipWeights, type ClipModel, type F32Dict } from '@ceb/core';
import { Rng } from '@ceb/random';
import { finetuneAccuracy } from '../src/finetune';
import { runRoar, type RoarItem, type RoarResult } from '../src/roar';

const CONFIG_JSON = {
  projection_dim: 16,
  vision_config: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 2, image_size: 64, patch_size: 16 },
  text_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 50, max_position_embeddings: 8 },
};
const config = parseClipConfig(CONFIG_JSON, 'test config');
const S = 64;
const P = 16; // patch
const SQ = 32; // square side
const HW = S * S;
const COLOURS = [
  [1, -1, -1],
  [-1, 1, -1],
  [-1, -1, 1],
  [1, 1, 1],
];

function gauss(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

type Item = RoarItem & { cls: number; square: number[] };
function makeItems(n: number, seed: number): Item[] {
  const rng = new Rng(seed);
  const cells = (S - SQ) / P + 1;
  return Array.from({ length: n }, (_, i) => {
    const cls = i % 4;
    const pixels = new Float32Array(3 * HW);
    for (let k = 0; k < pixels.length; k++) pixels[k] = 0.5 * gauss(rng);
    const r0 = rng.int(cells) * P;
    const c0 = rng.int(cells) * P;
    const square: number[] = [];
    for (let r = r0; r < r0 + SQ; r++) for (let c = c0; c < c0 + SQ; c++) square.push(r * S + c);
    for (const p of square) for (let c = 0; c < 3; c++) pixels[c * HW + p] = 2 * COLOURS[cls][c];
    return { pixels, category: `colour ${cls}`, cls, square };
  });
}

let model: ClipModel;
let weights: F32Dict;
const train = makeItems(64, 1);
const test = makeItems(32, 2);

beforeAll(async () => {
  await initBackend('wasm');
  model = randomClip(CONFIG_JSON, 5);
  weights = randomClipWeights(config, 5);
});

describe('finetuneAccuracy', () => {
  const run = (epochs: number) =>
    finetuneAccuracy(weights, config, train.map((it) => it.pixels), train.map((it) => it.cls), test.map((it) => it.pixels), test.map((it) => it.cls), 4, { seed: 1, epochs, lr: 1e-3, batch: 16 });

  it('learns the planted colour (chance is 0.25); the untrained model (fresh head) is at chance', () => {
    const before = tf.memory().numTensors;
    const vars = Object.keys(tf.engine().registeredVariables).length;
    expect(run(6)).toBeGreaterThanOrEqual(0.65);
    expect(run(0)).toBeLessThanOrEqual(0.4);
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(tf.engine().registeredVariables)).toHaveLength(vars);
  });
  it('refuses images of the wrong size, naming them; runs beside another trainable model', () => {
    const px = train.map((it) => it.pixels);
    const ys = train.map((it) => it.cls);
    expect(() => finetuneAccuracy(weights, config, px, ys, [new Float32Array(5)], [0], 4, { seed: 1, epochs: 1, lr: 1e-3, batch: 16 })).toThrow(/test image 0 has 5 values, the model takes 3×64×64/);
    const trainable = randomClip(CONFIG_JSON, 5, { trainable: true });
    try {
      expect(finetuneAccuracy(weights, config, px.slice(0, 8), ys.slice(0, 8), px.slice(0, 4), ys.slice(0, 4), 4, { seed: 1, epochs: 1, lr: 1e-3, batch: 16 })).toBeGreaterThanOrEqual(0);
    } finally {
      trainable.dispose();
    }
  });
});

describe('ROAR with probe "finetune"', () => {
  // Perfect map: the square first, then a seeded random order (so what else is removed does
  // not depend on where the square was).
  const perfect = (item: RoarItem, index: number, where: 'train' | 'test') => {
    const rng = new Rng(1000 * (where === 'train' ? 1 : 2) + index);
    const m = Float32Array.from({ length: HW }, () => 0.5 * rng.next());
    for (const p of (item as Item).square) m[p] = 1;
    return m;
  };
  const go = () => runRoar({ model, weights, train, test, task: 'category', probe: 'finetune', fractions: [0.3, 0.6], seed: 1, epochs: 6, lr: 1e-3, methods: { perfect } });
  let result: RoarResult;
  let before: number;
  beforeAll(async () => {
    before = tf.memory().numTensors;
    result = await go();
    if (process.env.ROAR_PRINT) console.log(JSON.stringify(result));
  }, 120_000);

  it('leaves no tensor behind', () => {
    expect(tf.memory().numTensors).toBe(before);
  });
  it('the perfect map falls to chance once the square is gone (t = 0.3 removes all 1024 of its pixels); random does not', () => {
    const p = result.methods.perfect;
    expect(result.probe).toBe('finetune');
    expect(result.classes).toBe(4);
    expect(p.fractions).toEqual([0, 0.3, 0.6]);
    expect(p.accuracy[0]).toBeGreaterThanOrEqual(0.65);
    for (const a of p.accuracy.slice(1)) expect(a).toBeLessThanOrEqual(0.4);
    expect(result.random.accuracy[1]).toBeGreaterThanOrEqual(0.55);
    expect(p.auc).toBeLessThan(result.random.auc - 0.1);
    expect(p.aucGainOverRandom).toBeCloseTo(result.random.auc - p.auc, 12);
  });
  it('the same seed gives identical curves', async () => {
    expect(await go()).toEqual(result);
  }, 120_000);
});

describe('ROAR finetune: errors', () => {
  const small = { train: train.slice(0, 8), test: test.slice(0, 4) };
  it('reads the weights from the model file when none are given, and says so when it cannot', async () => {
    await expect(runRoar({ model, ...small, task: 'category', probe: 'finetune', methods: {} })).rejects.toThrow(/could not read the model's weights from \(random weights in memory\).*pass them as `weights`/);
    await expect(runRoar({ featurize: async (x) => x, model, weights, ...small, task: 'category', probe: 'finetune', methods: {} })).rejects.toThrow(/finetune.*featurize/);
    await expect(runRoar({ weights, ...small, task: 'category', probe: 'finetune', methods: {} })).rejects.toThrow(/finetune.*needs the model/);
  });
});
