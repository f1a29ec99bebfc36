// The one target against the plain encoder: token scales of 1 change nothing, a row that
// scales a token by 0 equals encoding with that token's embedding replaced by zeros, and the
// pixel and state routes equal the encoder's cosine.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend';
import { loadClip } from '../src/model/load';
import type { ClipModel } from '../src/model/clip';
import { cosineRows, PairCache } from '../src/explain/pair-cache';
import { scoreIdRows, scoreImages, targetOfPixels, targetOfTokenScales } from '../src/explain/target';
import { CLIP_FIXTURE_DIR, maxAbsDiff } from '../src/testing';

let model: ClipModel;
beforeAll(async () => {
  await initBackend('wasm');
  model = await loadClip(CLIP_FIXTURE_DIR);
});

describe('targetOfTokenScales', () => {
  it('matches the encoder with all scales 1, and a zeroed token embedding with a 0 scale', () => {
    const { bosTokenId: bos, eosTokenId: eos, hiddenSize } = model.config.text;
    const ids = [bos, 320, 330, 340, eos];
    const s = model.config.vision.imageSize;
    const cache = new PairCache(model, { pixels: tf.randomNormal([1, 3, s, s], 0, 1, 'float32', 4) as tf.Tensor4D, ids });
    const other = cache.imageEmbedding();
    const scales = tf.tensor2d([[1, 1, 1, 1, 1], [1, 1, 0, 1, 1]]);
    const got = targetOfTokenScales(cache, ids, scales).dataSync();
    // Route 1: the plain encoder. Route 2: token 2's embedding set to zero by hand, positions added.
    const clean = tf.tidy(() => cosineRows(model.encodeText([ids]), other)).dataSync();
    const zeroed = tf.tidy(() => {
      const tok = model.text.tokenEmbeddings([ids]).arraySync()[0];
      tok[2] = new Array(hiddenSize).fill(0);
      const h = model.text.runBlocks(model.text.embedTokens(tf.tensor3d([tok]))).h;
      return cosineRows(model.text.head(h, [ids]), other);
    }).dataSync();
    expect(maxAbsDiff([got[0], got[1]], [clean[0], zeroed[0]])).toBeLessThan(1e-5);
    expect(Math.abs(got[0] - got[1])).toBeGreaterThan(1e-4);
    tf.dispose([cache.pair.pixels, scales]);
    cache.dispose();
  });
});

describe('the image and id-row routes', () => {
  it('equal the cosine of the plain encoders, whatever the batch size', async () => {
    const s = model.config.vision.imageSize;
    const { bosTokenId: bos, eosTokenId: eos } = model.config.text;
    const ids = [bos, 320, 330, eos];
    const cache = new PairCache(model, { pixels: tf.randomNormal([1, 3, s, s], 0, 1, 'float32', 5) as tf.Tensor4D, ids });
    const images = tf.randomNormal([3, 3, s, s], 0, 1, 'float32', 6) as tf.Tensor4D;
    const expected = tf.tidy(() => cosineRows(model.encodeImage(images), cache.textEmbedding())).dataSync();
    const flat = images.dataSync() as Float32Array;
    expect(maxAbsDiff(await scoreImages(cache, flat, 3, 2), expected)).toBeLessThan(1e-6);
    expect(maxAbsDiff(tf.tidy(() => targetOfPixels(cache, images)).dataSync(), expected)).toBeLessThan(1e-6);
    const rows = [ids, [bos, 330, 320, eos]];
    const textExpected = tf.tidy(() => cosineRows(model.encodeText(rows), cache.imageEmbedding())).dataSync();
    expect(maxAbsDiff(await scoreIdRows(cache, rows, 1), textExpected)).toBeLessThan(1e-6);
    await expect(scoreImages(cache, flat, 2)).rejects.toThrow(/2 images need/);
    tf.dispose([cache.pair.pixels, images]);
    cache.dispose();
  });
});
