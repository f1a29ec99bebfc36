// Test helpers: the shared fixture locations (from core) and seeded random pairs.
import * as tf from '@tensorflow/tfjs-core';
import type { ClipModel, PairInput } from '@ceb/core';

export { REPO_ROOT, SHARED_FIXTURES, CLIP_FIXTURE_DIR } from '@ceb/core/testing';

/** A seeded random pair: N(0,1) normalised pixels and a caption of `len` tokens between BOS and EOS. */
export function randomPair(model: ClipModel, seed: number, len = 6): PairInput {
  const s = model.config.vision.imageSize;
  const pixels = tf.randomNormal([1, 3, s, s], 0, 1, 'float32', seed) as tf.Tensor4D;
  const { bosTokenId: bos, eosTokenId: eos } = model.config.text;
  const ids = [bos, ...Array.from({ length: len }, (_, i) => 300 + ((seed * 37 + i * 11) % 400)), eos];
  return { pixels, ids };
}

/** Cosine similarity in float64 of two vectors. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}
