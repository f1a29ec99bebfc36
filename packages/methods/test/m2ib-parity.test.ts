// M2IB against the official algorithm (fixtures/<model>/m2ib.safetensors): with the
// fixture's noise replayed, both sides' maps within 1e-4 and the capacities within
// 1e-4 × their largest entry. Every parameter is read from the fixture file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { initBackend, loadClip, minMax, PairCache, readSafetensors, toFloat32, type ClipModel, type TensorFile } from '@ceb/core';
import { ADAM, m2ibWithNoise, type M2ibTrace, type NoiseSource } from '../src/m2ib';
import { CLIP_FIXTURE_DIR, maxAbsDiff } from './helpers/fixtures';

let model: ClipModel;
let fx: TensorFile;
let cache: PairCache;
const f32 = (name: string) => toFloat32(fx.tensors.get(name)!, name);
const meta = (key: string) => {
  const v = fx.metadata[key];
  if (v === undefined) throw new Error(`m2ib.safetensors metadata lacks "${key}"`);
  return v;
};

/** Replays fixture noise [steps, copies, L, D]: step t gets noise[t]. */
function replay(name: string): NoiseSource {
  const all = f32(name);
  const [steps, copies, l, d] = fx.tensors.get(name)!.shape;
  return (step, shape) => {
    expect(shape).toEqual([copies, l, d]);
    if (step >= steps) throw new Error(`fixture has noise for ${steps} steps`);
    const n = copies * l * d;
    return tf.tensor3d(all.subarray(step * n, (step + 1) * n), [copies, l, d]);
  };
}

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadClip(CLIP_FIXTURE_DIR);
  fx = await readSafetensors(join(CLIP_FIXTURE_DIR, 'm2ib.safetensors'));
  const px = fx.tensors.get('pixel_values')!;
  const ids = Array.from(toFloat32(fx.tensors.get('input_ids')!));
  cache = new PairCache(model, { pixels: tf.tensor4d(toFloat32(px), px.shape as [number, number, number, number]), ids });
});
afterAll(() => {
  cache?.pair.pixels.dispose();
  cache?.dispose();
  model?.dispose();
});

describe.each(['image', 'text'] as const)('M2IB %s side', (side) => {
  it('matches the official algorithm with the fixture noise', async () => {
    expect(meta('adam_eps')).toBe(String(ADAM.eps));
    expect(meta('adam_betas').split(',').map(Number)).toEqual([ADAM.beta1, ADAM.beta2]);
    const options = {
      layer: Number(meta(`${side}.layer`)),
      beta: Number(meta(`${side}.beta`)),
      steps: Number(meta('steps')),
      copies: Number(meta('batch')),
      lr: Number(meta('lr')),
      alphaInit: Number(meta('alpha_init')),
      sigma2: 1,
    };
    // The bottlenecked state is the fixture's.
    const h = cache.stateAfter(side, options.layer);
    expect(maxAbsDiff(h.dataSync(), f32(`${side}.h`))).toBeLessThan(1e-4);

    // Warm the per-pair cache (it keeps tensors by design), then nothing may leak.
    cache.imageEmbedding();
    cache.textEmbedding();
    const before = tf.memory().numTensors;
    const res = await m2ibWithNoise(replay(`${side}.noise`)).explain({ model, pair: cache.pair, cache }, side, options);
    expect(tf.memory().numTensors).toBe(before);
    const trace = res.extra!.trace as M2ibTrace;
    expect(maxAbsDiff(trace.fit, f32(`${side}.fit`))).toBeLessThan(1e-4);
    const capRef = f32(`${side}.capacity`);
    const capScale = Math.max(...capRef.map(Math.abs));
    expect(maxAbsDiff(trace.compression, f32(`${side}.compression`))).toBeLessThan(1e-4 * capScale);
    expect(maxAbsDiff(trace.loss, f32(`${side}.loss`))).toBeLessThan(1e-4 * Math.max(1, capScale * options.beta));
    expect(maxAbsDiff(trace.alphaFinal, f32(`${side}.alpha_final`))).toBeLessThan(1e-3);
    expect(maxAbsDiff(trace.capacity, capRef)).toBeLessThanOrEqual(1e-4 * capScale);
    if (side === 'image') {
      const size = Number(meta('image.map_size'));
      expect(res.shape).toEqual([size, size]);
      expect(maxAbsDiff(res.scores, f32('image.map'))).toBeLessThan(1e-4);
    } else {
      const ref = f32('text.map');
      // The fixture map keeps BOS/EOS; the attribution drops them after the min-max.
      expect(maxAbsDiff(minMax(trace.capacity).map, ref)).toBeLessThan(1e-4);
      expect(maxAbsDiff(res.scores, ref.subarray(1, ref.length - 1))).toBeLessThan(1e-4);
    }
  });
});
