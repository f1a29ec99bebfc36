// The registry the bench validates configs against, and a ROAR run through the real model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadClip, PairCache, type ClipModel } from '@ceb/core';
import { METRICS, getMetric, parseNumberList, resolveParams, runRoar, type PairMetric } from '../src';
import { CLIP_FIXTURE_DIR, randomPair } from './helpers/fixtures';

let model: ClipModel;
beforeAll(async () => {
  await initBackend('wasm');
  model = await loadClip(CLIP_FIXTURE_DIR);
});
afterAll(() => model?.dispose());

describe('METRICS', () => {
  it('has the seven metrics, each with a substrate, sides and valid defaults', () => {
    expect(Object.keys(METRICS).sort()).toEqual(['confidence-corrected', 'confidence-m2ib', 'confidence-nib', 'insertion-deletion', 'localisation', 'roar', 'sanity']);
    for (const [name, m] of Object.entries(METRICS)) {
      expect(m.name).toBe(name);
      expect(m.substrate.length).toBeGreaterThan(0);
      expect(Object.keys(m.higherIsBetter).length).toBeGreaterThan(0);
      expect(() => resolveParams(name, m.params)).not.toThrow();
    }
    expect(METRICS.roar.kind).toBe('dataset');
    expect(METRICS.sanity.kind).toBe('dataset');
    expect(() => getMetric('nope')).toThrow(/unknown metric "nope" \(known: confidence-corrected/);
  });
  it('param checks name the metric and the param', () => {
    const id = METRICS['insertion-deletion'];
    expect(resolveParams('insertion-deletion', id.params, { step: 1792 }).step).toBe(1792);
    expect(() => resolveParams('insertion-deletion', id.params, { step: 0 })).toThrow(/insertion-deletion\.step: expected an integer ≥ 1, got 0/);
    expect(() => resolveParams('insertion-deletion', id.params, { textSubstrate: 'mask' })).toThrow(/insertion-deletion\.textSubstrate: expected one of id0, zero-embedding/);
    expect(parseNumberList('0.1, 0.3,0.5', 'fractions')).toEqual([0.1, 0.3, 0.5]);
    expect(() => parseNumberList('0.1,,x', 'fractions')).toThrow(/fractions: "" in/);
  });
  it('every pair metric declares higherIsBetter for exactly the outputs it yields', async () => {
    const pair = randomPair(model, 3, 4);
    const cache = new PairCache(model, pair);
    const s = model.config.vision.imageSize;
    const image = { method: 't', side: 'image' as const, scores: Float32Array.from({ length: s * s }, (_, i) => (i % 7) / 6), shape: [s, s], ms: 0 };
    for (const m of Object.values(METRICS).filter((x): x is PairMetric => x.kind === 'pair')) {
      const r = await m.evaluate({ model, pair, cache, attribution: image, sample: { boxes: [{ x: 0, y: 0, w: 50, h: 60 }] } }, m.name === 'insertion-deletion' ? { step: s * s } : {});
      expect(Object.keys(r.values).sort(), m.name).toEqual(Object.keys(m.higherIsBetter).sort());
    }
    cache.dispose();
    pair.pixels.dispose();
  });
});

describe('ROAR with the model featurizer', () => {
  it('runs on projected image embeddings, with captions as retrieval classes, without leaking tensors', async () => {
    const s = model.config.vision.imageSize;
    const items = Array.from({ length: 6 }, (_, i) => {
      const p = randomPair(model, 20 + i, 3);
      const pixels = p.pixels.dataSync() as Float32Array;
      p.pixels.dispose();
      return { pixels, caption: `caption ${i % 3}` };
    });
    const before = tf.memory().numTensors;
    const r = await runRoar({
      model,
      train: items.slice(0, 4),
      test: items.slice(4),
      methods: { left: () => Float32Array.from({ length: s * s }, (_, i) => 1 - (i % s) / s) },
      fractions: [0.5],
      epochs: 5,
      batch: 4,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.classes).toBe(3);
    expect(r.unseenTestLabels).toBe(0);
    expect(r.methods.left.fractions).toEqual([0, 0.5]);
    for (const a of [...r.methods.left.accuracy, ...r.random.accuracy]) expect([0, 0.5, 1]).toContain(a);
  });
});
