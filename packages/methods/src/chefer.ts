// Chefer, Gur & Wolf (ICCV 2021), the gradient-weighted rollout of their CLIP notebook:
// R = I; for each block from `startLayer` up: Ā = mean_heads(max(∇A ⊙ A, 0)); R = R + Ā·R.
// Image = R[CLS, patches]; text = R[EOS, caption tokens]. ∇A ⊙ A is read as the gradient
// w.r.t. a gate of ones multiplying the attention probabilities (no hooks needed).
import * as tf from '@tensorflow/tfjs-core';
import { targetOfState, type ExplainContext, type OptionSpec, type OptionsOf } from '@ceb/core';
import type { Side } from '@ceb/types';
import { take, towerOf, type SideResult } from './common';
import { squareProduct } from './linalg';
import { textMapOverAllTokens } from './readouts';
import { relevanceRowExplainer } from './rollout';

export const CHEFER_OPTIONS = {
  startLayer: { type: 'integer', default: -1, layer: { of: 'attention' }, description: 'first block used (0-based; negative from the end); −1 = the last block only, as their CLIP notebook' },
  textReadout: {
    type: 'string',
    default: 'caption',
    choices: ['caption', 'all-tokens'],
    description: "text map: 'caption' = the pooled row of R over the caption tokens, min-max over them; 'all-tokens' = as the NIB repository (salicncy/chefer.py): the last row without the identity, min-max over every token incl. BOS/EOS, then BOS/EOS dropped",
  },
} satisfies Record<string, OptionSpec>;

export type CheferOptions = OptionsOf<typeof CHEFER_OPTIONS>;

/** mean_heads(max(∇A ⊙ A, 0)) [L·L] for blocks `from` … last, on the clean pair. */
export function gradWeightedAttention(ctx: ExplainContext, side: Side, from: number): { maps: Float32Array[]; L: number } {
  const tower = towerOf(ctx, side);
  const states = ctx.cache.states(side);
  const h = states[from];
  const L = h.shape[1];
  const heads = side === 'image' ? ctx.model.config.vision.numHeads : ctx.model.config.text.numHeads;
  const n = tower.numLayers - from;
  const gates = Array.from({ length: n }, () => tf.ones([1, heads, L, L]));
  const cams = tf.tidy(() => {
    const grads = tf.grads((...g: tf.Tensor[]) => {
      const byBlock: (tf.Tensor | undefined)[] = [];
      g.forEach((t, i) => (byBlock[from + i] = t));
      return tf.sum(targetOfState(ctx.cache, side, h, from, { gates: byBlock }));
    })(gates);
    return grads.map((gA) => tf.mean(tf.relu(gA), 1));
  });
  tf.dispose(gates);
  return { maps: cams.map((c) => take(c)), L };
}

/** R = I, then R ← R + Ā·R for each block in order. */
export function cheferMatrix(maps: ArrayLike<number>[], L: number): Float64Array {
  const r = new Float64Array(L * L);
  for (let i = 0; i < L; i++) r[i * L + i] = 1;
  for (const a of maps) {
    const add = squareProduct(a, r, L);
    for (let i = 0; i < r.length; i++) r[i] += add[i];
  }
  return r;
}

/**
 * The NIB repository's text readout of Chefer's R: the LAST row (the EOS of an unpadded
 * caption), without the identity R starts from, min-max over every token, BOS/EOS dropped after.
 */
function allTokensRowMap(r: Float64Array, L: number): SideResult['map'] {
  const scores = r.slice((L - 1) * L, L * L);
  scores[L - 1] -= 1;
  return textMapOverAllTokens(scores);
}

// The identity in R puts 1 on the row's own token (CLS is dropped anyway; EOS is dropped for text).
export const chefer = relevanceRowExplainer<CheferOptions>({
  name: 'chefer',
  description: 'Chefer et al. 2021 gradient-weighted rollout: R += mean_heads(relu(∇A⊙A))·R over blocks ≥ startLayer (default: last block only); CLS / EOS row',
  options: CHEFER_OPTIONS,
  blockMaps: gradWeightedAttention,
  combine: cheferMatrix,
  textMap: (o, r, L) => (o.textReadout === 'all-tokens' ? allTokensRowMap(r, L) : undefined),
});
