// Grad-CAM (Selvaraju et al., ICCV 2017) on a transformer block's output, and the
// element-wise variant ReLU(Σ_c G ⊙ A) used by later CLIP papers (one module, two explainers).
import * as tf from '@tensorflow/tfjs-core';
import { targetOfState, type ExplainContext, type Explainer, type OptionSpec, type OptionsOf } from '@ceb/core';
import type { Side } from '@ceb/types';
import { defineExplainer, imageMapFromTokens, take, textMapFromTokens } from './common';
import { textMapOverAllTokens } from './readouts';

export const GRADCAM_OPTIONS = {
  layer: {
    type: 'integer',
    default: -3,
    layer: { of: 'output' },
    description:
      'block whose output gives A and G (0-based; negative from the end). −3 = block 9 of a 12-block ViT-B (the spec default); ' +
      'not −1: after the last block only CLS/EOS reaches the head, so patch gradients are zero. Sweepable.',
  },
  textReadout: {
    type: 'string',
    default: 'caption',
    choices: ['caption', 'all-tokens'],
    description:
      "text map: 'caption' = scores of the caption tokens, min-max over them; 'all-tokens' = as the NIB repository (salicncy/gradcam.py): scores of every token, min-max over BOS/EOS too, then BOS/EOS dropped",
  },
} satisfies Record<string, OptionSpec>;

export type GradcamOptions = OptionsOf<typeof GRADCAM_OPTIONS>;

/**
 * The element-wise variant at the input of the last block (layer −2) explains almost nothing in a
 * standard pre-LN tower: every token but the pooled one reaches the head only through that
 * block's LayerNorm, which is scale-invariant, so Σ_c G⊙A ≈ 0 for them (up to its ε). Not refused
 * (a tower whose LayerNorm is not scale-invariant, like the tests' toy model, is fine), but said.
 */
export const GRADCAM_ELEMENTWISE_OPTIONS = {
  ...GRADCAM_OPTIONS,
  layer: {
    ...GRADCAM_OPTIONS.layer,
    description:
      'block whose output gives A and G (0-based; negative from the end); −3 = block 9 of a 12-block ViT-B. Avoid −2 and −1: at the input of the last block ' +
      'Σ_c G⊙A ≈ 0 for every token but the pooled one (its LayerNorm is scale-invariant), after it only the pooled token is left. Sweepable.',
  },
} satisfies Record<string, OptionSpec>;

export type GradcamVariant = 'classic' | 'elementwise';

/** Activations A and gradients G of the target at the output of `layer`, [L·D] each. */
export function activationsAndGradients(ctx: ExplainContext, side: Side, layer: number): { a: Float32Array; g: Float32Array; L: number; D: number } {
  const h = ctx.cache.stateAfter(side, layer);
  const [, L, D] = h.shape;
  const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(targetOfState(ctx.cache, side, x as tf.Tensor3D, layer + 1)))(h));
  return { a: (h.dataSync() as Float32Array).slice(), g: take(grad), L, D };
}
/**
 * Per-token Grad-CAM over all L tokens (0 where a token is not mapped). Mapped tokens:
 * image patches 1…L−1 (CLS dropped), text caption tokens 1…L−2 (BOS/EOS dropped).
 * classic: w_c = mean over mapped tokens of G, score = ReLU(Σ_c w_c A_c);
 * elementwise: score = ReLU(Σ_c G_c A_c).
 */
export function gradcamTokenScores(a: ArrayLike<number>, g: ArrayLike<number>, L: number, D: number, first: number, last: number, variant: GradcamVariant): Float64Array {
  const out = new Float64Array(L);
  if (variant === 'classic') {
    const w = new Float64Array(D);
    for (let t = first; t < last; t++) for (let c = 0; c < D; c++) w[c] += g[t * D + c];
    for (let c = 0; c < D; c++) w[c] /= last - first;
    for (let t = first; t < last; t++) {
      let s = 0;
      for (let c = 0; c < D; c++) s += w[c] * a[t * D + c];
      out[t] = Math.max(0, s);
    }
  } else {
    for (let t = first; t < last; t++) {
      let s = 0;
      for (let c = 0; c < D; c++) s += g[t * D + c] * a[t * D + c];
      out[t] = Math.max(0, s);
    }
  }
  return out;
}

function makeGradcam(name: string, variant: GradcamVariant, description: string, options: typeof GRADCAM_OPTIONS): Explainer<GradcamOptions> {
  const side = (s: Side) => (ctx: ExplainContext, o: GradcamOptions) => {
    const { a, g, L, D } = activationsAndGradients(ctx, s, o.layer);
    // Mapped tokens: image patches 1…L−1 (CLS dropped), caption tokens 1…L−2 (BOS/EOS dropped),
    // or, for NIB's text readout, every token.
    const allTokens = s === 'text' && o.textReadout === 'all-tokens';
    const scores = allTokens ? gradcamTokenScores(a, g, L, D, 0, L, variant) : gradcamTokenScores(a, g, L, D, 1, s === 'image' ? L : L - 1, variant);
    const map = s === 'image' ? imageMapFromTokens(scores, ctx.model.config.vision.imageSize) : allTokens ? textMapOverAllTokens(scores) : textMapFromTokens(scores);
    return { map, extra: { layer: o.layer, tokenScores: Array.from(scores) } };
  };
  return defineExplainer<GradcamOptions>({ name, description, options, image: side('image'), text: side('text') });
}

export const gradcam = makeGradcam(
  'gradcam',
  'classic',
  'Grad-CAM (Selvaraju et al. 2017) on the output of block `layer`: channel weights = mean gradient over patch (caption) tokens, map = ReLU(Σ w·A) per token',
  GRADCAM_OPTIONS,
);

export const gradcamElementwise = makeGradcam(
  'gradcam-elementwise',
  'elementwise',
  'element-wise Grad-CAM on the output of block `layer`: map = ReLU(Σ_c G⊙A) per token (the variant of later CLIP papers; NIB’s Grad-CAM at block 9)',
  GRADCAM_ELEMENTWISE_OPTIONS as typeof GRADCAM_OPTIONS,
);
