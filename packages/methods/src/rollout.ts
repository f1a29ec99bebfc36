// Attention rollout (Abnar & Zuidema, ACL 2020): per block A' = ½·mean_heads(A) + ½·I,
// rows renormalised, multiplied over the blocks from `startLayer` up; image map = CLS row
// over the patches, text map = the pooled (EOS) row over the caption tokens.
import * as tf from '@tensorflow/tfjs-core';
import type { ExplainContext, Explainer, OptionSpec, Side } from '@ceb/core';
import { attribution, checkCaption, imageMapFromTokens, pooledIndex, resolveLayer, resolveOptions, take, textMapFromTokens, towerOf } from './common';

export interface RolloutOptions {
  startLayer: number;
}

export const ROLLOUT_OPTIONS: Record<keyof RolloutOptions, OptionSpec> = {
  startLayer: { type: 'integer', default: 0, description: 'first block in the product (0-based; negative from the end); 0 = all blocks, as the paper' },
};

/** Head-averaged attention [L·L] of blocks `from` … last on the clean pair (batch 1). */
export function meanAttention(ctx: ExplainContext, side: Side, from: number): { maps: Float32Array[]; L: number } {
  const tower = towerOf(ctx, side);
  const states = side === 'image' ? ctx.cache.visionStates() : ctx.cache.textStates();
  const att = tf.tidy(() => tower.runBlocks(states[from], from, tower.numLayers, { attention: true }).attention!.map((a) => tf.mean(a, 1)));
  const L = states[0].shape[1];
  return { maps: att.map((a) => take(a)), L };
}

/** R = A'_last ⋯ A'_from with A' = ½A + ½I, rows renormalised. Returns R [L·L]. */
export function rolloutMatrix(maps: ArrayLike<number>[], L: number): Float64Array {
  let r = new Float64Array(L * L);
  for (let i = 0; i < L; i++) r[i * L + i] = 1;
  const a = new Float64Array(L * L);
  for (const m of maps) {
    for (let i = 0; i < L; i++) {
      let s = 0;
      for (let j = 0; j < L; j++) s += a[i * L + j] = 0.5 * m[i * L + j] + (i === j ? 0.5 : 0);
      for (let j = 0; j < L; j++) a[i * L + j] /= s;
    }
    const next = new Float64Array(L * L);
    for (let i = 0; i < L; i++) {
      for (let k = 0; k < L; k++) {
        const aik = a[i * L + k];
        if (aik === 0) continue;
        for (let j = 0; j < L; j++) next[i * L + j] += aik * r[k * L + j];
      }
    }
    r = next;
  }
  return r;
}

export const rollout: Explainer<RolloutOptions> = {
  name: 'rollout',
  description: 'attention rollout (Abnar & Zuidema 2020): product of ½·mean-head attention + ½·I over blocks ≥ startLayer; CLS row (image) / EOS row (text)',
  sides: ['image', 'text'],
  options: ROLLOUT_OPTIONS,
  async explain(ctx, side, options) {
    const t0 = performance.now();
    const o = resolveOptions<RolloutOptions>('rollout', ROLLOUT_OPTIONS, options);
    const tower = towerOf(ctx, side);
    const from = resolveLayer(o.startLayer, tower.numLayers, 'rollout: startLayer');
    if (side === 'text') checkCaption(ctx.pair.ids);
    const { maps, L } = meanAttention(ctx, side, from);
    const r = rolloutMatrix(maps, L);
    const row = side === 'image' ? 0 : pooledIndex(ctx.pair.ids);
    const scores = r.subarray(row * L, (row + 1) * L);
    const map = side === 'image' ? imageMapFromTokens(scores, ctx.model.config.vision.imageSize) : textMapFromTokens(scores);
    return attribution('rollout', side, map, t0, { startLayer: from });
  },
};
