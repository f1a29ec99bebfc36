// The methods of the NIB table and the newer CLIP explainers against golden tensors from an
// independent PyTorch implementation written from the official code (tools/golden/nib_methods.py,
// METHODS.md §13): NIB, FastIG, MFABA and SaliencyMap as LMBTough/NIB@d4d1138 computes them,
// Grad-ECLIP as Cyang-Zhao/Grad-Eclip@5c1b5cc, LeGrad as WalBouss/LeGrad@a9edb03, on the clip-tiny
// fixture's first case. Every parameter is read from the golden file's metadata. Maps within 1e-4.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { initBackend, readSafetensors, toFloat32, type ClipModel, type ExplainContext, type TensorFile } from '@ceb/core';
import { attentionSaliency, chefer, fastig, gradEclip, legrad, mfaba, nib, type AnyExplainer } from '../src/index';
import { maxAbsDiff } from './helpers/fixtures';
import { fixtureContext } from './helpers/fixture-case';

const GOLDEN = join(fileURLToPath(new URL('.', import.meta.url)), 'golden', 'methods.safetensors');
let model: ClipModel;
let golden: TensorFile;
let ctx: ExplainContext;

const g = (name: string) => {
  const t = golden.tensors.get(name);
  if (!t) throw new Error(`${GOLDEN} lacks the tensor "${name}"`);
  return toFloat32(t, name);
};
const meta = (key: string) => {
  const v = golden.metadata[key];
  if (v === undefined) throw new Error(`${GOLDEN} metadata lacks "${key}"`);
  return Number(v);
};
/** The harness's text map: the golden's over every token, BOS and EOS cut afterwards (NIB's evaluation). */
const captionOf = (all: Float32Array) => all.slice(1, all.length - 1);
const scale = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));

let dispose = () => {};
beforeAll(async () => {
  await initBackend('wasm');
  golden = await readSafetensors(GOLDEN);
  ({ model, ctx, dispose } = await fixtureContext(meta('case_index')));
});
afterAll(() => dispose());

async function explain(m: AnyExplainer, side: 'image' | 'text', options: Record<string, unknown> = {}) {
  const a = await m.explain(ctx, side, options);
  expect(a.flat).toBe(false);
  return { map: a.scores, tokens: a.extra!.tokenScores as number[], extra: a.extra! };
}

describe('NIB (salicncy/nib.py)', () => {
  const opts = () => ({ layer: meta('nib.target_layer'), steps: meta('nib.num_steps') });
  it('image: the attribution at hidden_states[target_layer], the token sums and the map', async () => {
    const r = await explain(nib, 'image', opts());
    expect(maxAbsDiff(r.extra.attribution as Float32Array, g('nib.image.attribution'))).toBeLessThan(1e-5 * scale(g('nib.image.attribution')) + 1e-7);
    expect(maxAbsDiff(r.tokens, g('nib.image.tokens'))).toBeLessThan(1e-5);
    expect(maxAbsDiff(r.map, g('nib.image.map'))).toBeLessThan(1e-4);
  });
  it('text (one image: the pair’s cosine): min-max over every token, then BOS/EOS cut', async () => {
    const r = await explain(nib, 'text', opts());
    expect(maxAbsDiff(r.extra.attribution as Float32Array, g('nib.text.attribution'))).toBeLessThan(1e-5 * scale(g('nib.text.attribution')) + 1e-7);
    expect(maxAbsDiff(r.tokens, g('nib.text.tokens'))).toBeLessThan(1e-5);
    expect(maxAbsDiff(r.map, captionOf(g('nib.text.map')))).toBeLessThan(1e-4);
  });
});

// NIB's files differentiate the logit = exp(logit_scale) · cosine; the harness the cosine. The token
// scores are linear in that gradient, so they differ by exactly that factor and the maps not at all.
describe.each([
  ['fastig', fastig, 'fastig'],
  ['attention-saliency', attentionSaliency, 'saliencymap'],
] as const)('%s (NIB’s last-block attention files)', (_name, method, key) => {
  it.each(['image', 'text'] as const)('%s: token scores × the logit scale, and the map', async (side) => {
    const r = await explain(method, side);
    const ref = g(`nibcode.${key}.${side}.tokens`);
    const ours = r.tokens.map((v) => v * model.logitScale);
    expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-5 * scale(ref));
    const map = g(`nibcode.${key}.${side}.map`);
    expect(maxAbsDiff(r.map, side === 'image' ? map : captionOf(map))).toBeLessThan(1e-4);
  });
});

describe('Chefer et al. as NIB’s salicncy/chefer.py (last block)', () => {
  it('image: the CLS row of the gradient-weighted attention, the map', async () => {
    const a = await chefer.explain(ctx, 'image');
    expect(maxAbsDiff(a.scores, g('nibcode.chefer.image.map'))).toBeLessThan(1e-4);
  });
  it('text, textReadout all-tokens: the last row without the identity, min-max over every token, BOS/EOS cut', async () => {
    const nibStyle = await chefer.explain(ctx, 'text', { textReadout: 'all-tokens' });
    expect(maxAbsDiff(nibStyle.scores, captionOf(g('nibcode.chefer.text.map')))).toBeLessThan(1e-4);
    // The harness's default readout is another map (METHODS.md §12: max |Δ| 0.066 on the fixture).
    const ours = await chefer.explain(ctx, 'text');
    expect(maxAbsDiff(ours.scores, nibStyle.scores)).toBeGreaterThan(1e-3);
  });
});

describe('MFABA (salicncy/mfaba.py)', () => {
  const opts = () => ({ steps: meta('mfaba.steps'), stepSize: meta('mfaba.step_size') });
  it('image: sign-descent on the embeddings before the pre-LayerNorm, target the cosine', async () => {
    const r = await explain(mfaba, 'image', opts());
    expect(maxAbsDiff(r.tokens, g('mfaba.image.tokens'))).toBeLessThan(1e-5 * scale(g('mfaba.image.tokens')));
    expect(maxAbsDiff(r.map, g('mfaba.image.map'))).toBeLessThan(1e-4);
  });
  it('text: the token-embedding rows, target the logit (× the logit scale), min-max over every token', async () => {
    const r = await explain(mfaba, 'text', opts());
    const ref = g('mfaba.text.tokens');
    // Σ_t 0.01·|g_t|: homogeneous in the gradient, so the logit target scales the sums by exp(logit_scale).
    expect(maxAbsDiff(r.tokens.map((v) => v * model.logitScale), ref)).toBeLessThan(1e-5 * scale(ref));
    expect(maxAbsDiff(r.map, captionOf(g('mfaba.text.map')))).toBeLessThan(1e-4);
  });
});

describe('Grad-ECLIP (the official notebooks, one recomputed head)', () => {
  it('image: the per-patch sum before ReLU, the grid and the map (min-max before the resize)', async () => {
    const r = await explain(gradEclip, 'image', { blocks: meta('gradeclip.image.blocks'), heads: meta('gradeclip.heads') === 1 ? 'one' : 'model' });
    expect(maxAbsDiff(r.tokens, g('gradeclip.image.tokens'))).toBeLessThan(1e-5 * scale(g('gradeclip.image.tokens')));
    expect(maxAbsDiff(r.extra.grid as number[], g('gradeclip.image.grid'))).toBeLessThan(1e-5 * scale(g('gradeclip.image.grid')));
    expect(maxAbsDiff(r.map, g('gradeclip.image.map'))).toBeLessThan(1e-4);
  });
  it('text: the per-token sum over blocks, and the sum-normalised caption map (unpadded ids)', async () => {
    const r = await explain(gradEclip, 'text', { blocks: meta('gradeclip.text.blocks'), heads: 'one' });
    expect(maxAbsDiff(r.tokens, g('gradeclip.text.tokens'))).toBeLessThan(1e-5 * scale(g('gradeclip.text.tokens')));
    expect(maxAbsDiff(r.map, g('gradeclip.text.map'))).toBeLessThan(1e-4);
  });
});

describe('LeGrad (compute_legrad_clip)', () => {
  it('image: each block’s scores, their sum and the map', async () => {
    const r = await explain(legrad, 'image', { layerIndex: meta('legrad.layer_index') });
    const start = meta('legrad.start_block');
    const perBlock = r.extra.perBlock as Record<string, number[]>;
    expect(Object.keys(perBlock).map(Number)).toEqual(Array.from({ length: model.vision.numLayers - start }, (_, i) => start + i));
    for (const [l, v] of Object.entries(perBlock)) expect(maxAbsDiff(v, g(`legrad.image.tokens.block${l}`))).toBeLessThan(1e-5 * scale(g(`legrad.image.tokens.block${l}`)));
    expect(maxAbsDiff(r.tokens, g('legrad.image.tokens'))).toBeLessThan(1e-5 * scale(g('legrad.image.tokens')));
    expect(maxAbsDiff(r.map, g('legrad.image.map'))).toBeLessThan(1e-4);
  });
});
