// What NIB's FastIG and SaliencyMap files (LMBTough/NIB@d4d1138 salicncy/fast_ig.py,
// saliencymap.py) share: the attention probabilities A of the LAST block and the gradient of the
// target with respect to them, ∂target/∂A (A as it enters A·V), both [H, L, L] on the clean pair;
// one of the pooled token's row read per head, averaged over the heads; and NIB's readouts
// (image: the CLS row over the patch columns, grid, bilinear, min-max; text: the pooled row over
// every column, min-max over all tokens BOS and EOS included, then BOS/EOS dropped).
import * as tf from '@tensorflow/tfjs-core';
import { targetOfState, type ExplainContext } from '@ceb/core';
import type { Side } from '@ceb/types';
import { defineExplainer, imageMapFromTokens, pooledIndex, take, towerOf, type SideResult } from './common';
import { openBlock } from './open-block';
import { textMapOverAllTokens } from './readouts';

export interface LastAttention {
  /** ∂target/∂A of the last block [H·L·L] (target = the cosine; NIB's logit is exp(scale) × it). */
  grad: Float32Array;
  /** A of the last block [H·L·L]. */
  probs: Float32Array;
  heads: number;
  L: number;
}

/** ∂target/∂A and A of the last block of the explained side's tower (the blocks below from the pair cache). */
export function lastAttention(ctx: ExplainContext, side: Side): LastAttention {
  const tower = towerOf(ctx, side);
  const last = tower.numLayers - 1;
  const h = ctx.cache.states(side)[last];
  const probs = tf.tidy(() => openBlock(ctx.model, side, last, h).probs);
  const grad = tf.tidy(() =>
    tf.grad((p: tf.Tensor) => tf.sum(targetOfState(ctx.cache, side, openBlock(ctx.model, side, last, h, { probs: p }).h, tower.numLayers)))(probs),
  );
  const [, heads, L] = probs.shape;
  return { grad: take(grad), probs: take(probs), heads, L };
}

/** mean over heads of f(∂A, A) along row `row` of the L×L maps, for every column. */
export function headMeanRow(a: LastAttention, row: number, f: (grad: number, prob: number) => number): Float64Array {
  const { heads, L } = a;
  const out = new Float64Array(L);
  for (let hd = 0; hd < heads; hd++) {
    const base = (hd * L + row) * L;
    for (let j = 0; j < L; j++) out[j] += f(a.grad[base + j], a.probs[base + j]) / heads;
  }
  return out;
}

/**
 * A method that reads f(∂A, A) of the last block as NIB's files do: the CLS row (image, patch
 * columns) and the pooled row (text; = NIB's last row for an unpadded caption, all columns).
 */
export function lastAttentionExplainer(spec: { name: string; description: string; note?: string; cell: (grad: number, prob: number) => number }) {
  const side = (s: Side) => (ctx: ExplainContext): SideResult => {
    const a = lastAttention(ctx, s);
    const tokens = headMeanRow(a, s === 'image' ? 0 : pooledIndex(ctx.pair.ids), spec.cell);
    const map = s === 'image' ? imageMapFromTokens(tokens, ctx.model.config.vision.imageSize) : textMapOverAllTokens(tokens);
    return { map, extra: { tokenScores: Array.from(tokens) } };
  };
  return defineExplainer<Record<string, never>>({
    name: spec.name,
    description: spec.description,
    ...(spec.note ? { note: spec.note } : {}),
    options: {},
    image: side('image'),
    text: side('text'),
  });
}
