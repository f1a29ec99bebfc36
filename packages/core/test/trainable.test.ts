// The trainable build: the same numbers as the fast model, gradients for every weight on
// wasm (patch and token embeddings included), and nothing left behind after dispose.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend';
import { buildClip } from '../src/model/clip';
import { trainableLinear } from '../src/model/layers';
import { readClipConfig } from '../src/model/config';
import { readClipWeights, resolveWeightsPath } from '../src/model/load';
import type { F32Dict } from '../src/model/layout';
import { CLIP_FIXTURE_DIR, maxAbsDiff } from '../src/testing';

let dict: F32Dict;
beforeAll(async () => {
  await initBackend('wasm');
  dict = (await readClipWeights(resolveWeightsPath(CLIP_FIXTURE_DIR))).dict;
});

describe('trainable build', () => {
  it('gives the fast model’s embeddings and a gradient for every weight; dispose frees everything', () => {
    const config = readClipConfig(CLIP_FIXTURE_DIR);
    const before = tf.memory().numTensors;
    const fast = buildClip(dict, config, { path: CLIP_FIXTURE_DIR, layout: 'hf', configFrom: 'config.json' });
    const slow = buildClip(dict, config, { path: CLIP_FIXTURE_DIR, layout: 'hf', configFrom: 'config.json' }, { trainable: true });
    const s = config.vision.imageSize;
    const pixels = tf.randomNormal([2, 3, s, s], 0, 1, 'float32', 9) as tf.Tensor4D;
    const ids = [[config.text.bosTokenId, 320, 321, 322, config.text.eosTokenId]];
    const [fi, ft, si, st] = [fast.encodeImage(pixels), fast.encodeText(ids), slow.encodeImage(pixels), slow.encodeText(ids)];
    expect(maxAbsDiff(fi.dataSync(), si.dataSync())).toBeLessThan(1e-4);
    expect(maxAbsDiff(ft.dataSync(), st.dataSync())).toBeLessThan(1e-4);
    const vars = [...slow.params.values()] as tf.Variable[];
    const { value, grads } = tf.variableGrads(() => tf.add(tf.sum(tf.square(slow.encodeImage(pixels))), tf.sum(tf.square(slow.encodeText(ids)))) as tf.Scalar, vars);
    for (const name of ['vision_model.embeddings.patch_embedding.weight', 'text_model.embeddings.token_embedding.weight', 'vision_model.encoder.layers.0.self_attn.q_proj.weight', 'text_projection.weight']) {
      const g = grads[(slow.params.get(name) as tf.Variable).name];
      expect(g, name).toBeDefined();
      expect(Array.from(g.dataSync()).reduce((m, v) => Math.max(m, Math.abs(v)), 0), name).toBeGreaterThan(0);
    }
    // Two trainable models live side by side (variable names are per model).
    const other = buildClip(dict, config, { path: CLIP_FIXTURE_DIR, layout: 'hf', configFrom: 'config.json' }, { trainable: true });
    tf.dispose([value, ...Object.values(grads), pixels, fi, ft, si, st]);
    fast.dispose();
    slow.dispose();
    other.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('buildClip without a logit_scale', () => {
  it('leaves the caller’s dict as it is and uses exp(logitScaleInit)', () => {
    const config = readClipConfig(CLIP_FIXTURE_DIR);
    const noScale: F32Dict = new Map([...dict].filter(([k]) => k !== 'logit_scale'));
    const keysBefore = [...noScale.keys()];
    for (const trainable of [false, true]) {
      const model = buildClip(noScale, config, { path: CLIP_FIXTURE_DIR, layout: 'hf', configFrom: 'config.json' }, { trainable });
      expect(noScale.has('logit_scale')).toBe(false);
      expect([...noScale.keys()]).toEqual(keysBefore);
      expect(model.logitScale).toBeCloseTo(Math.exp(config.logitScaleInit), 4);
      expect(model.logitScale).toBe(Math.exp(Math.fround(config.logitScaleInit)));
      expect(model.params.get('logit_scale')!.shape).toEqual([]);
      model.dispose();
    }
  });
});

describe('trainableLinear', () => {
  it('gives the same value and gradients as plain autodiff of x·Wᵀ + b', () => {
    const x = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 1);
    const w = tf.randomNormal([4, 5], 0, 1, 'float32', 2);
    const b = tf.randomNormal([4], 0, 1, 'float32', 3);
    const up = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 4);
    // The layer closes over w and b, so differentiate through them as the optimiser does.
    const wv = tf.variable(w);
    const bv = tf.variable(b);
    const layer = trainableLinear(wv, bv as tf.Tensor1D);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x), up)) as tf.Scalar, [wv, bv]);
    const gx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx), up)))(x);
    const gFast = [gx, grads[wv.name], grads[bv.name]];
    // Reference: the same function written directly with tf ops.
    const gRef = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(tf.add(tf.reshape(tf.matMul(tf.reshape(xx, [6, 5]), ww, false, true), [2, 3, 4]), bb), up)),
    )([x, w, b]);
    tf.dispose([wv, bv]);
    for (let i = 0; i < 3; i++) {
      const a = gFast[i].dataSync();
      const r = gRef[i].dataSync();
      expect(a.length).toBe(r.length);
      for (let j = 0; j < a.length; j++) expect(a[j]).toBeCloseTo(r[j], 4);
    }
  });
});
