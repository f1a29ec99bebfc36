// scaledTokenTarget against the plain encoder: scales of 1 change nothing, and a row that
// scales a token by 0 equals encoding with that token's embedding replaced by zeros.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend';
import { loadClip } from '../src/model/load';
import type { ClipModel } from '../src/model/clip';
import { cosineRows } from '../src/explain/pair-cache';
import { scaledTokenTarget } from '../src/explain/scoring';
import { CLIP_FIXTURE_DIR, maxAbsDiff } from '../src/testing';

let model: ClipModel;
beforeAll(async () => {
  await initBackend('wasm');
  model = await loadClip(CLIP_FIXTURE_DIR);
});

describe('scaledTokenTarget', () => {
  it('matches the encoder with all scales 1, and a zeroed token embedding with a 0 scale', () => {
    const { bosTokenId: bos, eosTokenId: eos, hiddenSize } = model.config.text;
    const ids = [bos, 320, 330, 340, eos];
    const other = tf.randomNormal([1, model.config.projectionDim], 0, 1, 'float32', 4) as tf.Tensor2D;
    const scales = tf.tensor2d([[1, 1, 1, 1, 1], [1, 1, 0, 1, 1]]);
    const got = scaledTokenTarget(model, ids, scales, other).dataSync();
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
    tf.dispose([other, scales]);
  });
});
