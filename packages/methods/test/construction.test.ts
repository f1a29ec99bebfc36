// The toy model does what its construction says: only the marked patch / token matters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type ClipModel } from '@ceb/core';
import { buildToyClip, inMarkedPatch, TOY, toyPixels } from './helpers/toy-model';

let model: ClipModel;
beforeAll(async () => {
  await initBackend('wasm');
  model = buildToyClip();
});
afterAll(() => model?.dispose());

describe('toy CLIP', () => {
  it('image embedding = (mean colour of the marked patch, 1, 0)', () => {
    const px = toyPixels(3);
    const e = tf.tidy(() => model.encodeImage(px)).dataSync();
    const v = px.dataSync();
    const S = TOY.imageSize;
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (inMarkedPatch(y, x)) s += v[c * S * S + y * S + x];
      expect(e[c]).toBeCloseTo(s / 64, 4);
    }
    expect(e[3]).toBeCloseTo(1, 4);
    expect(e[4]).toBeCloseTo(0, 6);
    px.dispose();
  });

  it('pixels outside the marked patch do not change the image embedding', () => {
    const a = toyPixels(3);
    const b = tf.tidy(() => {
      const S = TOY.imageSize;
      const noise = new Float32Array(3 * S * S);
      for (let i = 0; i < noise.length; i++) if (!inMarkedPatch(Math.floor((i % (S * S)) / S), i % S)) noise[i] = Math.sin(i) * 2;
      return tf.add(a, tf.tensor4d(noise, [1, 3, S, S])) as tf.Tensor4D;
    });
    const ea = tf.tidy(() => model.encodeImage(a)).dataSync();
    const eb = tf.tidy(() => model.encodeImage(b)).dataSync();
    for (let i = 0; i < 5; i++) expect(Math.abs(ea[i] - eb[i])).toBeLessThan(1e-5);
    tf.dispose([a, b]);
  });

  it('text embedding = (content of the marked token, 0, 1); other tokens do not matter', () => {
    const e = tf.tidy(() => model.encodeText([[...TOY.ids]])).dataSync();
    expect(Array.from(e).map((x) => +x.toFixed(4))).toEqual([0.8, 0.8, 0.8, 0, 1]);
    const other = [...TOY.ids];
    other[1] = 6;
    other[3] = 3;
    const e2 = tf.tidy(() => model.encodeText([other])).dataSync();
    for (let i = 0; i < 5; i++) expect(Math.abs(e[i] - e2[i])).toBeLessThan(1e-5);
  });
});
