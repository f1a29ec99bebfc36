import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildClip, initBackend } from '@ceb/core';
import { clipLoss, positivesMatrix } from '../src/loss';
import { buildTrainable, DEFAULT_GEOMETRY, geometryConfig, initWeights } from '../src/model';
import { AdamW, batchLoss, learningRate, padIds, trainableVars, trainStep } from '../src/train';
import { makeScenes } from '../src/data';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('clipLoss', () => {
  it('equals the hand-computed symmetric cross-entropy for one positive per row', () => {
    // cos = identity, scale e^0 = 1: each row is softmax over [1, 0] → loss log(1 + e^-1).
    const img = tf.tensor2d([[2, 0], [0, 3]]);
    const txt = tf.tensor2d([[1, 0], [0, 5]]);
    const loss = clipLoss(img, txt, tf.scalar(0), positivesMatrix([[0], [1]], 2));
    expect(loss.dataSync()[0]).toBeCloseTo(Math.log(1 + Math.exp(-1)), 5);
  });

  it('spreads targets over several positives and skips captions absent from the batch', () => {
    // One image, positives captions 0 and 1 of three; cos = [1, 1, 0] (caption 1 = caption 0), scale 1.
    const img = tf.tensor2d([[1, 0]]);
    const txt = tf.tensor2d([[1, 0], [1, 0], [0, 1]]);
    const z = 2 * Math.E + 1;
    const lossI = -(0.5 * Math.log(Math.E / z) + 0.5 * Math.log(Math.E / z));
    // caption→image: captions 0 and 1 each have a single image: log-softmax over one entry = 0; caption 2 skipped.
    const expected = 0.5 * (lossI + 0);
    const loss = clipLoss(img, txt, tf.scalar(0), positivesMatrix([[0, 1]], 3));
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
  });

  it('clamps the logit scale at 100', () => {
    const img = tf.tensor2d([[1, 0], [0, 1]]);
    const txt = tf.tensor2d([[0, 1], [1, 0]]); // all wrong: loss = log(1 + e^{s})
    const loss = clipLoss(img, txt, tf.scalar(10), positivesMatrix([[0], [1]], 2));
    expect(loss.dataSync()[0]).toBeCloseTo(100 + Math.log(1 + Math.exp(-100)), 3);
  });
});

describe('training step', () => {
  it('two Adam steps on a fixed batch lower the contrastive loss of a tiny model', () => {
    const g = { ...DEFAULT_GEOMETRY, imageSize: 64, patchSize: 16, visionWidth: 32, visionLayers: 2, textWidth: 32, textLayers: 2, projectionDim: 16 };
    const config = geometryConfig(g);
    const model = buildTrainable(initWeights(config, 3), config);
    const vars = trainableVars(model);
    const opt = new AdamW(vars);
    const scenes = makeScenes(5, 8, 64);
    // Any distinct ids below the vocabulary work for the loss; BOS/EOS at the top as in the real vocabulary.
    const ids = padIds(Array.from({ length: 60 }, (_, i) => [574, 256 + (i % 30), 300 + Math.floor(i / 30), 575]), 575);
    try {
      const before = batchLoss(model, scenes, ids);
      trainStep(model, opt, vars, scenes, ids, 3e-3);
      trainStep(model, opt, vars, scenes, ids, 3e-3);
      const after = batchLoss(model, scenes, ids);
      expect(after).toBeLessThan(before - 0.05);
    } finally {
      // Trainable variables carry HF names, which tfjs wants unique while they live.
      opt.dispose();
      model.dispose();
    }
  });

  it('the trainable build computes what the inference build computes', () => {
    const g = { ...DEFAULT_GEOMETRY, imageSize: 64, patchSize: 16, visionWidth: 32, visionLayers: 1, textWidth: 32, textLayers: 1, projectionDim: 16 };
    const config = geometryConfig(g);
    const a = buildTrainable(initWeights(config, 9), config);
    const b = buildClip(initWeights(config, 9), config, { path: '', layout: 'hf', configFrom: 'given' });
    try {
    const scenes = makeScenes(2, 2, 64);
    const px = tf.tensor4d(Float32Array.from([...scenes[0].pixels, ...scenes[1].pixels]), [2, 3, 64, 64]);
    const ea = a.encodeImage(px).dataSync();
    const eb = b.encodeImage(px).dataSync();
    for (let i = 0; i < ea.length; i++) expect(ea[i]).toBeCloseTo(eb[i], 4);
    const ids = [[574, 300, 575], [574, 301, 575]];
    const ta = a.encodeText(ids).dataSync();
    const tb = b.encodeText(ids).dataSync();
    for (let i = 0; i < ta.length; i++) expect(ta[i]).toBeCloseTo(tb[i], 4);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

describe('learningRate', () => {
  it('warms up linearly, peaks, and decays by cosine to the floor', () => {
    expect(learningRate(0, 100, 1, 10)).toBeCloseTo(0.1);
    expect(learningRate(9, 100, 1, 10)).toBeCloseTo(1);
    expect(learningRate(10, 100, 1, 10)).toBeCloseTo(1);
    expect(learningRate(55, 100, 1, 10)).toBeCloseTo(0.05 + 0.95 * 0.5);
    expect(learningRate(100, 100, 1, 10)).toBeCloseTo(0.05);
  });
});

describe('initWeights', () => {
  const rms = (d: Float32Array) => Math.sqrt(d.reduce((a, x) => a + x * x, 0) / d.length);

  it("draws each weight at Hugging Face CLIP's scale for its role", () => {
    // vision width 64, 2 layers; text width 32, 2 layers. Expected stds by hand:
    // q/k/v and fc2 = d^-½·(2L)^-½, out_proj = d^-½, fc1 = (2d)^-½, projections = d^-½.
    const g = { ...DEFAULT_GEOMETRY, imageSize: 64, patchSize: 8, visionWidth: 64, visionLayers: 2, textWidth: 32, textLayers: 2, projectionDim: 16 };
    const w = initWeights(geometryConfig(g), 1);
    const expected: Record<string, number> = {
      'vision_model.encoder.layers.0.self_attn.q_proj.weight': 1 / 16, // 64^-½ · 4^-½
      'vision_model.encoder.layers.1.mlp.fc2.weight': 1 / 16,
      'vision_model.encoder.layers.0.self_attn.out_proj.weight': 1 / 8,
      'vision_model.encoder.layers.0.mlp.fc1.weight': 1 / Math.sqrt(128),
      'visual_projection.weight': 1 / 8,
      'vision_model.embeddings.class_embedding': 1 / 8,
      'text_model.encoder.layers.1.self_attn.v_proj.weight': 1 / Math.sqrt(32) / 2,
      'text_projection.weight': 1 / Math.sqrt(32),
      'vision_model.embeddings.patch_embedding.weight': 0.02,
      'text_model.embeddings.token_embedding.weight': 0.02,
    };
    for (const [key, std] of Object.entries(expected)) {
      const t = w.get(key);
      expect(t, key).toBeDefined();
      expect(rms(t!.data) / std, key).toBeGreaterThan(0.9);
      expect(rms(t!.data) / std, key).toBeLessThan(1.1);
    }
    expect([...w.get('vision_model.pre_layrnorm.weight')!.data].every((x) => x === 1)).toBe(true);
    expect([...w.get('text_model.encoder.layers.0.mlp.fc1.bias')!.data].every((x) => x === 0)).toBe(true);
    expect(w.get('logit_scale')!.data[0]).toBeCloseTo(Math.log(1 / 0.07), 5);
  });

  it('is seeded', () => {
    const config = geometryConfig({ ...DEFAULT_GEOMETRY, imageSize: 64, patchSize: 16, visionWidth: 32, visionLayers: 1, textWidth: 32, textLayers: 1, projectionDim: 16 });
    const a = initWeights(config, 4);
    const b = initWeights(config, 4);
    const c = initWeights(config, 5);
    const k = 'vision_model.encoder.layers.0.self_attn.q_proj.weight';
    expect([...a.get(k)!.data]).toEqual([...b.get(k)!.data]);
    expect([...a.get(k)!.data]).not.toEqual([...c.get(k)!.data]);
  });
});
