// Grad-ECLIP (Zhao et al., ICML 2024), as Cyang-Zhao/Grad-Eclip@5c1b5cc computes it
// (grad_eclip_image.ipynb :175-200, :298-351; grad_eclip_text.ipynb :95-177): for each of the
// last `blocks` blocks j,
//   g = ∂cos/∂(attention output of block j, before the out-projection) at the pooled token,
//   sim_i = min-max over the keys i of cos(q_pooled, k_i)   (raw q, k; image: the patch keys),
//   m_j,i = Σ_d g_d · v_{i,d} · sim_i;
// image = Σ_j ReLU(m_j) over the patches, min-max on the grid, then bilinear to the input size;
// text = ReLU(Σ_j m_j) over the caption tokens, divided by its sum. The code recomputes the
// explained blocks with ONE attention head (which changes the model's output and the target);
// `heads: model` keeps the model's own heads instead.
import * as tf from '@tensorflow/tfjs-core';
import { gridSide, minMax, resizeBilinear, targetOfState, type ExplainContext, type OptionSpec, type OptionsOf } from '@ceb/core';
import type { Side } from '@ceb/types';
import { defineExplainer, pooledIndex, take, towerOf, type MapResult, type SideResult } from './common';
import { openBlock } from './open-block';

export const GRAD_ECLIP_OPTIONS = {
  blocks: {
    type: 'integer',
    default: 0,
    min: 0,
    description: 'how many of the last blocks are explained; 0 = the code’s: 1 for the image (grad_eclip_image.ipynb) and 8 for the text (grad_eclip_text.ipynb; every block of a shallower tower)',
  },
  heads: {
    type: 'string',
    default: 'one',
    choices: ['one', 'model'],
    description: 'one = the explained blocks recomputed with a single attention head, as the code does (the target changes with it); model = the model’s own heads',
  },
} satisfies Record<string, OptionSpec>;

export type GradEclipOptions = OptionsOf<typeof GRAD_ECLIP_OPTIONS>;

/** The code's block counts when `blocks` is 0: image n = 1, text n = 8 (capped at the tower's depth). */
export function gradEclipBlocks(side: Side, blocks: number, numLayers: number): number {
  const n = blocks === 0 ? Math.min(side === 'image' ? 1 : 8, numLayers) : blocks;
  if (n > numLayers) throw new Error(`grad-eclip: blocks ${blocks} is more than the ${side} tower's ${numLayers} blocks`);
  return n;
}

interface BlockParts {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  /** ∂cos/∂(attention output) [L·D]. */
  g: Float32Array;
}

/** q, k, v and ∂cos/∂(attention output) of each of the last n blocks (recomputed with `heads`), from the cached input of block N−n. */
export function gradEclipParts(ctx: ExplainContext, side: Side, n: number, heads: number | undefined): { parts: BlockParts[]; L: number; D: number } {
  const tower = towerOf(ctx, side);
  const N = tower.numLayers;
  const h = ctx.cache.states(side)[N - n];
  const [, L, D] = h.shape;
  const run = (deltas: tf.Tensor[]) => {
    let x = h;
    const qkv: tf.Tensor[] = [];
    for (let j = 0; j < n; j++) {
      const r = openBlock(ctx.model, side, N - n + j, x, { heads, attnOutDelta: deltas[j] });
      qkv.push(r.q, r.k, r.v);
      x = r.h;
    }
    return { x, qkv };
  };
  // One pass: q, k, v are kept from the differentiated forward (a zero delta leaves them as they are).
  let qkv: tf.Tensor[] = [];
  const zeros = Array.from({ length: n }, () => tf.zeros([1, L, D]));
  const grads = tf.tidy(() =>
    tf.grads((...d: tf.Tensor[]) => {
      const r = run(d);
      qkv = r.qkv.map((t) => tf.keep(t));
      return tf.sum(targetOfState(ctx.cache, side, r.x, N));
    })(zeros),
  );
  tf.dispose(zeros);
  const arrays = qkv.map((t) => take(t));
  const parts = grads.map((g, j) => ({ q: arrays[3 * j], k: arrays[3 * j + 1], v: arrays[3 * j + 2], g: take(g) }));
  return { parts, L, D };
}

function dot(a: Float32Array, i: number, b: Float32Array, j: number, D: number): number {
  let s = 0;
  for (let d = 0; d < D; d++) s += a[i * D + d] * b[j * D + d];
  return s;
}

/** m_i = Σ_d g[p,d] · v[i,d] · sim_i for the keys i in [first, L), sim = min-max of cos(q_p, k_i) over those keys. */
export function gradEclipScores(part: BlockParts, p: number, first: number, L: number, D: number): Float64Array {
  const norm = (a: Float32Array, i: number) => Math.max(Math.sqrt(dot(a, i, a, i, D)), 1e-12); // F.normalize's eps
  const cos = Array.from({ length: L - first }, (_, i) => dot(part.q, p, part.k, first + i, D) / (norm(part.q, p) * norm(part.k, first + i)));
  const sim = minMax(cos, 'grad-eclip query–key similarity').map;
  return Float64Array.from(sim, (s, i) => dot(part.g, p, part.v, first + i, D) * s);
}

function imageSide(ctx: ExplainContext, o: GradEclipOptions): SideResult {
  const n = gradEclipBlocks('image', o.blocks, ctx.model.vision.numLayers);
  const { parts, L, D } = gradEclipParts(ctx, 'image', n, o.heads === 'one' ? 1 : undefined);
  const raw = new Float64Array(L - 1);
  const grid = new Float64Array(L - 1);
  for (const part of parts) {
    gradEclipScores(part, 0, 1, L, D).forEach((m, i) => {
      raw[i] += m;
      grid[i] += Math.max(0, m); // image notebook: ReLU per block, then the sum
    });
  }
  const g = gridSide(L);
  const s = ctx.model.config.vision.imageSize;
  const { map: normed, flat } = minMax(grid, 'grad-eclip grid');
  // Min-max on the grid first, then the resize (the notebook's order): the map's maximum may be < 1.
  const map: MapResult = { scores: resizeBilinear(normed, g, g, s, s), shape: [s, s], flat };
  return { map, extra: { tokenScores: Array.from(raw), grid: Array.from(grid), blocks: n, heads: o.heads } };
}

function textSide(ctx: ExplainContext, o: GradEclipOptions): SideResult {
  const n = gradEclipBlocks('text', o.blocks, ctx.model.text.numLayers);
  const { parts, L, D } = gradEclipParts(ctx, 'text', n, o.heads === 'one' ? 1 : undefined);
  const eos = pooledIndex(ctx.pair.ids);
  const raw = new Float64Array(L);
  for (const part of parts) gradEclipScores(part, eos, 0, L, D).forEach((m, i) => (raw[i] += m));
  // Text notebook: the sum over blocks, then ReLU; the caption tokens 1…EOS−1, divided by their sum.
  const kept = Array.from(raw.slice(1, eos), (v) => Math.max(0, v));
  const total = kept.reduce((a, b) => a + b, 0);
  const scores = Float32Array.from(kept, (v) => (total > 0 ? v / total : 0));
  return { map: { scores, shape: [scores.length], flat: !(total > 0) }, extra: { tokenScores: Array.from(raw), blocks: n, heads: o.heads } };
}

export const gradEclip = defineExplainer<GradEclipOptions>({
  name: 'grad-eclip',
  description:
    'Grad-ECLIP (Zhao et al., ICML 2024) as its code: Σ over the last `blocks` blocks of ReLU(∂cos/∂attention-output[pooled] · v_i · minmax cos(q_pooled, k_i)); image min-max on the grid, text sum-normalised over the caption tokens',
  note: 'heads: one (the default) recomputes the explained blocks with a single attention head, as the official code does; the map then explains that modified model’s cosine',
  options: GRAD_ECLIP_OPTIONS,
  image: imageSide,
  text: textSide,
});
