// Grad-ECLIP and LeGrad against their formulas written out by hand in float64 on a one-block CLIP
// (helpers/one-block-model.ts: the block, the LayerNorms, the projection, the cosine and their
// derivatives by the chain rule, no autodiff): image and text for Grad-ECLIP, with the code's
// single recomputed head and with the model's two; LeGrad's per-token scores and map.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, minMax, PairCache, resizeBilinear, type ClipModel, type ExplainContext } from '@ceb/core';
import { gradEclip, legrad } from '../src/index';
import { maxAbsDiff } from './helpers/fixtures';
import { buildOneBlockClip, cosineAndGrad, dotv, handBlock, layerNorm, layerNormBackward, linear, norm, ONE, transposed, weight, type Mat } from './helpers/one-block-model';

let model: ClipModel;
let ctx: ExplainContext;
const ids = [ONE.bos, 3, 5, 2, ONE.eos];
beforeAll(async () => {
  await initBackend('wasm');
  model = buildOneBlockClip();
  const s = ONE.imageSize;
  const pair = { pixels: tf.randomNormal([1, 3, s, s], 0, 1, 'float32', 4) as tf.Tensor4D, ids };
  ctx = { model, pair, cache: new PairCache(model, pair) };
});
afterAll(() => {
  ctx?.pair.pixels.dispose();
  ctx?.cache.dispose();
  model?.dispose();
});

const rows = (t: tf.Tensor): Mat => {
  const [, L, D] = t.shape;
  const v = Array.from(t.dataSync());
  return Array.from({ length: L }, (_, i) => v.slice(i * D, (i + 1) * D));
};
const vec = (t: tf.Tensor) => Array.from(t.dataSync());
const mm = (v: number[]) => minMax(v).map;
const W = (k: string) => weight(model, k);

/** ∂cos(W·LN(x), other)/∂x for a pooled row x, with LN = the head's final LayerNorm. */
function headGrad(x: number[], lnKey: string, projKey: string, other: number[]) {
  const ln = layerNorm(x, W(`${lnKey}.weight`)[0], W(`${lnKey}.bias`)[0]);
  const { grad } = cosineAndGrad(linear(ln.y, W(projKey)), other);
  return layerNormBackward(transposed(grad, W(projKey)), ln, W(`${lnKey}.weight`)[0]);
}

/** m_i = sim_i · g·v_i over the keys `keys`, sim = min-max of cos(q_p, k_i). */
function eclipScores(b: ReturnType<typeof handBlock>, p: number, g: number[], keys: number[]) {
  const sim = mm(keys.map((i) => dotv(b.q[p], b.k[i]) / (norm(b.q[p]) * norm(b.k[i]))));
  return keys.map((i, n) => sim[n] * dotv(g, b.v[i]));
}

describe.each([
  ['one', 1],
  ['model', ONE.heads],
] as const)('Grad-ECLIP by hand, heads: %s', (heads, count) => {
  it('image: g = ∂cos/∂(attention output)[CLS], m_i = g·v_i·sim_i over the patches; min-max on the grid, then bilinear', async () => {
    const b = handBlock(model, 'vision_model', rows(ctx.cache.visionStates()[0]), count);
    const g = transposed(headGrad(b.out[0], 'vision_model.post_layernorm', 'visual_projection.weight', vec(ctx.cache.textEmbedding())), b.outProj);
    const m = eclipScores(b, 0, g, [1, 2, 3, 4]);
    const a = await gradEclip.explain(ctx, 'image', { heads });
    expect(maxAbsDiff(a.extra!.tokenScores as number[], m)).toBeLessThan(1e-5 * Math.max(...m.map(Math.abs)));
    const map = resizeBilinear(mm(m.map((v) => Math.max(0, v))), 2, 2, ONE.imageSize, ONE.imageSize);
    expect(maxAbsDiff(a.scores, map)).toBeLessThan(1e-4);
  });

  it('text: g at EOS, sim over every key (causal block), ReLU(Σ m) over the caption tokens, divided by its sum', async () => {
    const b = handBlock(model, 'text_model', rows(ctx.cache.textStates()[0]), count);
    const eos = ids.length - 1;
    const g = transposed(headGrad(b.out[eos], 'text_model.final_layer_norm', 'text_projection.weight', vec(ctx.cache.imageEmbedding())), b.outProj);
    const m = eclipScores(b, eos, g, ids.map((_, i) => i));
    const a = await gradEclip.explain(ctx, 'text', { heads });
    expect(maxAbsDiff(a.extra!.tokenScores as number[], m)).toBeLessThan(1e-5 * Math.max(...m.map(Math.abs)));
    const kept = m.slice(1, eos).map((v) => Math.max(0, v));
    const total = kept.reduce((x, y) => x + y, 0);
    expect(total).toBeGreaterThan(0);
    expect(maxAbsDiff(a.scores, kept.map((v) => v / total))).toBeLessThan(1e-5);
  });
});

describe('LeGrad by hand', () => {
  it('r_j = mean over heads and query rows of ReLU(∂s/∂A[h, q, j]), s = cos(proj(LN(mean of the block’s tokens)), text)', async () => {
    const b = handBlock(model, 'vision_model', rows(ctx.cache.visionStates()[0]), ONE.heads);
    const L = b.out.length;
    const mean = b.out[0].map((_, c) => b.out.reduce((s, row) => s + row[c], 0) / L);
    // ∂s/∂out_q = ∂s/∂mean / L for every row q; through the out-projection to the attention output.
    const gAo = transposed(headGrad(mean, 'vision_model.post_layernorm', 'visual_projection.weight', vec(ctx.cache.textEmbedding())).map((v) => v / L), b.outProj);
    const dh = ONE.D / ONE.heads;
    const r = Array.from({ length: L }, (_, j) => {
      let s = 0;
      for (let hd = 0; hd < ONE.heads; hd++) {
        const cols = Array.from({ length: dh }, (_, c) => hd * dh + c);
        // ∂s/∂A[h, q, j] = Σ_{c in head h} ∂s/∂ao[q, c] · v[j, c] — the same for every query row q here.
        const dA = cols.reduce((acc, c) => acc + gAo[c] * b.v[j][c], 0);
        s += Math.max(0, dA) / ONE.heads; // the mean over the L query rows of one value
      }
      return s;
    });
    const a = await legrad.explain(ctx, 'image', { layerIndex: 0 });
    expect(maxAbsDiff(a.extra!.tokenScores as number[], r)).toBeLessThan(1e-5 * Math.max(...r) + 1e-9);
    expect(Math.max(...r.slice(1))).toBeGreaterThan(0);
    expect(maxAbsDiff(a.scores, mm(Array.from(resizeBilinear(r.slice(1), 2, 2, ONE.imageSize, ONE.imageSize))))).toBeLessThan(1e-4);
    await expect(legrad.explain(ctx, 'text')).rejects.toThrow(/explains only the image side/);
  });
});
