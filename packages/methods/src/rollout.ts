// Attention rollout (Abnar & Zuidema, ACL 2020): per block A' = ½·mean_heads(A) + ½·I,
// rows renormalised, multiplied over the blocks from `startLayer` up; image map = CLS row
// over the patches, text map = the pooled (EOS) row over the caption tokens.
import * as tf from '@tensorflow/tfjs-core';
import type { ExplainContext, OptionSpec, OptionsOf } from '@ceb/core';
import type { Side } from '@ceb/types';
import { squareProduct } from './linalg';
import { defineExplainer, imageMapFromTokens, pooledIndex, take, textMapFromTokens, towerOf, type SideResult } from './common';

export const ROLLOUT_OPTIONS = {
  startLayer: { type: 'integer', default: 0, layer: { of: 'attention' }, description: 'first block in the product (0-based; negative from the end); 0 = all blocks, as the paper' },
} satisfies Record<string, OptionSpec>;

export type RolloutOptions = OptionsOf<typeof ROLLOUT_OPTIONS>;

/** Head-averaged attention [L·L] of blocks `from` … last on the clean pair (batch 1). */
export function meanAttention(ctx: ExplainContext, side: Side, from: number): { maps: Float32Array[]; L: number } {
  const tower = towerOf(ctx, side);
  const states = ctx.cache.states(side);
  const att = tf.tidy(() => tower.runBlocks(states[from], from, tower.numLayers, { attention: true }).attention!.map((a) => tf.mean(a, 1)));
  const L = states[0].shape[1];
  return { maps: att.map((a) => take(a)), L };
}

/** R = A'_last ⋯ A'_from with A' = ½A + ½I, rows renormalised. Returns R [L·L]. */
export function rolloutMatrix(maps: ArrayLike<number>[], L: number): Float64Array {
  let r: Float64Array<ArrayBuffer> = new Float64Array(L * L);
  for (let i = 0; i < L; i++) r[i * L + i] = 1;
  const a = new Float64Array(L * L);
  for (const m of maps) {
    for (let i = 0; i < L; i++) {
      let s = 0;
      for (let j = 0; j < L; j++) s += a[i * L + j] = 0.5 * m[i * L + j] + (i === j ? 0.5 : 0);
      for (let j = 0; j < L; j++) a[i * L + j] /= s;
    }
    r = squareProduct(a, r, L);
  }
  return r;
}

/**
 * The row of the pooled token of an L×L relevance matrix as the side's map: the CLS row over
 * the patches (image), the pooled (EOS) row over the caption tokens (text).
 */
export function pooledRowMap(ctx: ExplainContext, side: Side, r: Float64Array, L: number): SideResult['map'] {
  const row = side === 'image' ? 0 : pooledIndex(ctx.pair.ids);
  const scores = r.slice(row * L, (row + 1) * L);
  return side === 'image' ? imageMapFromTokens(scores, ctx.model.config.vision.imageSize) : textMapFromTokens(scores);
}

/** Per-block L×L maps of the blocks from `from` on, for one side of the pair. */
export type BlockMaps = (ctx: ExplainContext, side: Side, from: number) => { maps: ArrayLike<number>[]; L: number };

/**
 * A method that combines per-block attention maps (from `startLayer` on) into one relevance
 * matrix and reads the pooled token's row: rollout, Chefer et al. `textMap`, where given and
 * it returns a map, reads the text side's matrix instead (Chefer's NIB readout).
 */
export function relevanceRowExplainer<O extends RolloutOptions>(spec: {
  name: string;
  description: string;
  options: Record<keyof O & string, OptionSpec>;
  blockMaps: BlockMaps;
  combine: (maps: ArrayLike<number>[], L: number) => Float64Array;
  textMap?: (o: O, r: Float64Array, L: number) => SideResult['map'] | undefined;
}) {
  const side = (s: Side) => (ctx: ExplainContext, o: O): SideResult => {
    const { maps, L } = spec.blockMaps(ctx, s, o.startLayer);
    const r = spec.combine(maps, L);
    const map = (s === 'text' ? spec.textMap?.(o, r, L) : undefined) ?? pooledRowMap(ctx, s, r, L);
    return { map, extra: { startLayer: o.startLayer } };
  };
  return defineExplainer<O>({ name: spec.name, description: spec.description, options: spec.options, image: side('image'), text: side('text') });
}

export const rollout = relevanceRowExplainer<RolloutOptions>({
  name: 'rollout',
  description: 'attention rollout (Abnar & Zuidema 2020): product of ½·mean-head attention + ½·I over blocks ≥ startLayer; CLS row (image) / EOS row (text)',
  options: ROLLOUT_OPTIONS,
  blockMaps: meanAttention,
  combine: rolloutMatrix,
});
