// LeGrad (Bousselham et al., ICCV 2025), as WalBouss/LeGrad@a9edb03 legrad/wrapper.py:154-185
// (compute_legrad_clip) computes it, image side only: for each block l from `layerIndex` to the
// last, that block's own score
//   s_l = normalize(text embedding) · normalize(proj(post_layernorm(mean over ALL tokens of the output of block l))),
// differentiated w.r.t. that block's attention probabilities A_l [H, L, L]; ReLU on the gradient,
// mean over the heads and over every query row, the CLS column dropped; the patch grids summed
// over the blocks, bilinear to the input size, min-max. (The code up-samples each block's grid
// before summing; the resize is linear, so the order does not change the map.)
import * as tf from '@tensorflow/tfjs-core';
import { cosineRows, type ExplainContext, type OptionSpec, type OptionsOf } from '@ceb/core';
import { defineExplainer, imageMapFromTokens, take, type SideResult } from './common';
import { openBlock } from './open-block';

export const LEGRAD_OPTIONS = {
  layerIndex: {
    type: 'integer',
    default: -2,
    layer: { of: 'attention' },
    description: 'first block whose attention is explained (0-based; negative from the end); −2 = the last two blocks, LeWrapper’s default',
  },
} satisfies Record<string, OptionSpec>;

export type LegradOptions = OptionsOf<typeof LEGRAD_OPTIONS>;

/** r_l [L] of block l: mean over heads and query rows of ReLU(∂s_l/∂A_l), CLS column first. */
export function legradBlockScores(ctx: ExplainContext, l: number): Float32Array {
  const { model, cache } = ctx;
  const h = cache.visionStates()[l];
  const probs = tf.tidy(() => openBlock(model, 'image', l, h).probs);
  const score = (p: tf.Tensor) => {
    const out = openBlock(model, 'image', l, h, { probs: p }).h;
    // head() pools token 0: given the mean over all tokens as its only token, it is proj(post_layernorm(mean)).
    return tf.sum(cosineRows(model.vision.head(tf.mean(out, 1, true) as tf.Tensor3D), cache.textEmbedding()));
  };
  const r = tf.tidy(() => tf.mean(tf.mean(tf.relu(tf.grad(score)(probs)), 1), 1));
  probs.dispose();
  return take(r);
}

function imageSide(ctx: ExplainContext, o: LegradOptions): SideResult {
  const N = ctx.model.vision.numLayers;
  const sum = new Float64Array(ctx.cache.visionStates()[0].shape[1]);
  const perBlock: Record<string, number[]> = {};
  for (let l = o.layerIndex; l < N; l++) {
    const r = legradBlockScores(ctx, l);
    r.forEach((v, i) => (sum[i] += v));
    perBlock[l] = Array.from(r);
  }
  return { map: imageMapFromTokens(sum, ctx.model.config.vision.imageSize), extra: { tokenScores: Array.from(sum), perBlock, layerIndex: o.layerIndex } };
}

export const legrad = defineExplainer<LegradOptions>({
  name: 'legrad',
  description:
    'LeGrad (Bousselham et al., ICCV 2025): Σ over blocks ≥ layerIndex of mean over heads and query rows of ReLU(∂s_l/∂A_l), s_l = the block’s own mean-token score against the text; CLS column dropped (image only)',
  options: LEGRAD_OPTIONS,
  image: imageSide,
});
