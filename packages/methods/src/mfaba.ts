// MFABA as the code behind the published NIB table computes it (LMBTough/NIB@d4d1138
// salicncy/mfaba.py:62-127), not as the MFABA paper's pixel attack (see docs/methods.md): a few
// sign-gradient DESCENT steps on the cosine, z_{t+1} = z_t − stepSize·sign(g_t), and the
// attribution M = −Σ_t (z_{t+1} − z_t) ⊙ g_t, summed over the hidden dimension per token.
// Image: z = the patch + class + position embeddings BEFORE the pre-LayerNorm. Text: z = the
// token-embedding rows of the caption's ids (before positions); the code steps the whole table,
// so a repeated id moves by the sign of the gradient summed over its occurrences.
import * as tf from '@tensorflow/tfjs-core';
import { targetOfState, targetOfTokenEmbeddings, type ExplainContext, type OptionSpec, type OptionsOf } from '@ceb/core';
import type { Side } from '@ceb/types';
import { defineExplainer, imageMapFromTokens, type SideResult } from './common';
import { nansumRows, textMapOverAllTokens } from './readouts';

export const MFABA_OPTIONS = {
  steps: { type: 'integer', default: 10, min: 1, description: 'sign-gradient steps (hard-coded 10 in NIB’s mfaba.py)' },
  stepSize: { type: 'number', default: 0.01, min: 0, description: 'size of each sign step (hard-coded 0.01 in NIB’s mfaba.py)' },
} satisfies Record<string, OptionSpec>;

export type MfabaOptions = OptionsOf<typeof MFABA_OPTIONS>;

/** Sums the gradient rows [L·D] of positions holding the same id (the gradient of the shared table row). */
function sumRepeatedIds(g: Float32Array, ids: number[], D: number): Float32Array {
  const byId = new Map<number, Float64Array>();
  ids.forEach((id, t) => {
    const row = byId.get(id) ?? new Float64Array(D);
    for (let d = 0; d < D; d++) row[d] += g[t * D + d];
    byId.set(id, row);
  });
  const out = new Float32Array(g.length);
  ids.forEach((id, t) => out.set(byId.get(id)!, t * D));
  return out;
}

/** The state the path starts from and the target of a state, per side. */
function mfabaPath(ctx: ExplainContext, side: Side): { z0: tf.Tensor3D; f: (z: tf.Tensor3D) => tf.Tensor } {
  const { model, cache, pair } = ctx;
  if (side === 'image') {
    // The pre-LayerNorm is not in the tower's seam (embed = preNorm(embeddings)), so it is applied here.
    const z0 = tf.tidy(() => model.vision.embeddings(pair.pixels));
    return { z0, f: (z) => targetOfState(cache, 'image', model.vision.w.preNorm.apply(z) as tf.Tensor3D, 0) };
  }
  const z0 = tf.tidy(() => model.text.tokenEmbeddings([pair.ids]));
  return { z0, f: (z) => targetOfTokenEmbeddings(cache, z) };
}

/** M = −Σ_t (z_{t+1} − z_t) ⊙ g_t along the sign-descent path, [L·D]. */
export function mfabaAttribution(ctx: ExplainContext, side: Side, o: MfabaOptions): { attribution: Float64Array; L: number; D: number } {
  const { z0, f } = mfabaPath(ctx, side);
  const [, L, D] = z0.shape;
  const z = Float32Array.from(z0.dataSync());
  z0.dispose();
  const m = new Float64Array(L * D);
  for (let t = 0; t < o.steps; t++) {
    const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(f(x as tf.Tensor3D)))(tf.tensor3d(z, [1, L, D])));
    let g = grad.dataSync() as Float32Array;
    grad.dispose();
    if (side === 'text') g = sumRepeatedIds(g, ctx.pair.ids, D);
    for (let i = 0; i < z.length; i++) {
      const before = z[i];
      z[i] = before - o.stepSize * Math.sign(g[i]);
      m[i] -= (z[i] - before) * g[i];
    }
  }
  return { attribution: m, L, D };
}

function mfabaSide(side: Side) {
  return (ctx: ExplainContext, o: MfabaOptions): SideResult => {
    const { attribution, L, D } = mfabaAttribution(ctx, side, o);
    const tokens = nansumRows(attribution, L, D);
    const map = side === 'image' ? imageMapFromTokens(tokens, ctx.model.config.vision.imageSize) : textMapOverAllTokens(tokens);
    return { map, extra: { tokenScores: Array.from(tokens) } };
  };
}

export const mfaba = defineExplainer<MfabaOptions>({
  name: 'mfaba',
  description:
    'MFABA as NIB’s code (salicncy/mfaba.py): `steps` sign-gradient descent steps of `stepSize` on the embeddings (image: before the pre-LayerNorm; text: the token-embedding rows), M = −Σ Δz ⊙ ∇target, Σ over the hidden dimension',
  note: 'the NIB repository’s MFABA (a path on the embeddings), not the MFABA paper’s attack on the pixels',
  options: MFABA_OPTIONS,
  image: mfabaSide('image'),
  text: mfabaSide('text'),
});
