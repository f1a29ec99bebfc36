// NIB, Narrowing Information Bottleneck (Zhu et al., ICLR 2025), as LMBTough/NIB@d4d1138
// salicncy/nib.py:186-246 computes it: x = the hidden state ENTERING block `layer` (HF
// hidden_states[layer]; NIB's `target_layer`, one state earlier than M2IB's `layer`); for
// i = 1…n the state scaled to x·i/n is run through the rest of the tower and
// A += x ⊙ ∂target/∂(x·i/n) / n; the map is Σ over the hidden dimension per token. That is
// integrated gradients at x with a zero baseline and the right-point rule (a test checks it
// against the IG module). Deterministic; no β. The blocks below `layer` come from the pair cache.
import * as tf from '@tensorflow/tfjs-core';
import { targetOfState, type ExplainContext, type OptionSpec, type OptionsOf } from '@ceb/core';
import type { Side } from '@ceb/types';
import { defineExplainer, imageMapFromTokens, take, type SideResult } from './common';
import { nansumRows, textMapOverAllTokens } from './readouts';

export const NIB_OPTIONS = {
  layer: {
    type: 'integer',
    default: 9,
    layer: {
      of: 'input',
      refuseLast: {
        blocks: 1,
        why: 'its tokens reach the head only through that block’s LayerNorm, which is scale-invariant, so x·∂target/∂x ≈ 0 for every token but the pooled one and the map would show LayerNorm’s ε',
      },
    },
    description:
      'NIB’s target_layer: the INPUT of this block (HF hidden_states[layer]; 0 = the encoder input; negative from the end), one state before M2IB’s layer of the same number; 9 = the NIB code’s default; not the last block',
  },
  steps: { type: 'integer', default: 10, min: 1, description: 'num_steps n: the state is scaled by i/n, i = 1…n (the NIB code’s default 10)' },
} satisfies Record<string, OptionSpec>;

export type NibOptions = OptionsOf<typeof NIB_OPTIONS>;

/** A = Σ_{i=1..n} x ⊙ ∇F(x·i/n) / n at the state entering block `layer`, in NIB's order of operations; [L·D]. */
export function nibAttribution(ctx: ExplainContext, side: Side, layer: number, steps: number): { attribution: Float32Array; L: number; D: number } {
  const x = ctx.cache.states(side)[layer];
  const [, L, D] = x.shape;
  let acc: tf.Tensor = tf.zerosLike(x);
  for (let i = 1; i <= steps; i++) {
    const next = tf.tidy(() => {
      const g = tf.grad((z: tf.Tensor) => tf.sum(targetOfState(ctx.cache, side, z as tf.Tensor3D, layer)))(tf.div(tf.mul(x, i), steps));
      return tf.add(acc, tf.div(tf.mul(x, g), steps));
    });
    acc.dispose();
    acc = next;
  }
  return { attribution: take(acc), L, D };
}

function nibSide(side: Side) {
  return (ctx: ExplainContext, o: NibOptions): SideResult => {
    const { attribution, L, D } = nibAttribution(ctx, side, o.layer, o.steps);
    const tokens = nansumRows(attribution, L, D);
    // Image: drop CLS, grid, bilinear, min-max (nib.py:207-216). Text: min-max over every token, BOS/EOS too (243-245).
    const map = side === 'image' ? imageMapFromTokens(tokens, ctx.model.config.vision.imageSize) : textMapOverAllTokens(tokens);
    return { map, extra: { attribution, tokenScores: Array.from(tokens), layer: o.layer, steps: o.steps } };
  };
}

export const nib = defineExplainer<NibOptions>({
  name: 'nib',
  description:
    'NIB (Zhu et al., ICLR 2025) as its code: Σ_i x ⊙ ∇target(x·i/n)/n at the INPUT of block `layer` (HF hidden_states[layer], NIB’s target_layer), summed over the hidden dimension; signed',
  note: 'layer = NIB’s target_layer, the input of that block (one state before M2IB’s layer of the same number); the text map explains the pair’s cosine (NIB’s code: the mean cosine to every image of its batch, the same for a batch of one)',
  options: NIB_OPTIONS,
  image: nibSide('image'),
  text: nibSide('text'),
});
