// On the toy CLIP (helpers/toy-model.ts) the image target depends only on the marked patch
// and the text target only on the marked token: every method must put the most mass there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, type ClipModel, type ExplainContext, type PairCache } from '@ceb/core';
import { attentionSaliency, chefer, fastig, gradcam, gradcamElementwise, gradEclip, ig, kernelshap, legrad, mfaba, nib, occlusion, rise, rollout, saliency, type AnyExplainer } from '../src/index';
import { buildToyClip, inMarkedPatch, TOY, toyPair } from './helpers/toy-model';

let model: ClipModel;
let cache: PairCache;
let ctx: ExplainContext;
beforeAll(async () => {
  await initBackend('wasm');
  model = buildToyClip();
  const p = toyPair(model);
  cache = p.cache;
  ctx = { model, pair: p.pair, cache };
});
afterAll(() => {
  ctx?.pair.pixels.dispose();
  cache?.dispose();
  model?.dispose();
});

const cases: [string, AnyExplainer, Record<string, unknown>][] = [
  ['gradcam (layer 0: the copy block comes after it)', gradcam, { layer: 0 }],
  ['gradcam-elementwise', gradcamElementwise, { layer: 0 }],
  ['saliency', saliency, {}],
  ['rise', rise, { masks: 400, textMasks: 400, seed: 3 }],
  ['occlusion', occlusion, {}],
  ['kernelshap', kernelshap, { samples: 300, seed: 3 }],
  ['rollout', rollout, {}],
  ['chefer', chefer, {}],
  ['ig (pixels / token embeddings)', ig, { steps: 16 }],
  ['ig (at the input of block 0)', ig, { at: 'layer', layer: 0, steps: 16 }],
  ['ig (blurred baseline, image)', ig, { baseline: 'blur', blurSigma: 2, steps: 16, readout: 'abs' }],
  ['nib (layer 0: the copy block comes after it)', nib, { layer: 0 }],
  ['fastig', fastig, {}],
  ['mfaba', mfaba, {}],
  ['attention-saliency', attentionSaliency, {}],
  ['grad-eclip', gradEclip, {}],
  ['grad-eclip (the model’s heads)', gradEclip, { heads: 'model' }],
  ['legrad', legrad, {}],
];
// NIB's readouts min-max the text scores over BOS and EOS too, so the best caption token may sit below 1.
const OVER_ALL_TOKENS = new Set<AnyExplainer>([nib, fastig, mfaba, attentionSaliency]);
const withText = cases.filter(([label, m]) => m.sides.includes('text') && !label.includes('blurred'));
const withImage = cases.filter(([, m]) => m.sides.includes('image'));

describe.each(withImage)('%s', (_label, method, opts) => {
  it('image: the argmax lies in the marked patch and the patch holds the most mass', async () => {
    const a = await method.explain(ctx, 'image', opts);
    const S = TOY.imageSize;
    expect(a.shape).toEqual([S, S]);
    expect(a.flat).toBe(false);
    let arg = 0;
    let inside = 0;
    let total = 0;
    for (let i = 0; i < S * S; i++) {
      if (a.scores[i] > a.scores[arg]) arg = i;
      total += a.scores[i];
      if (inMarkedPatch(Math.floor(i / S), i % S)) inside += a.scores[i];
    }
    expect(inMarkedPatch(Math.floor(arg / S), arg % S)).toBe(true);
    // The patch is 1/16 of the image: its mean must beat the mean outside it.
    const meanIn = inside / 64;
    const meanOut = (total - inside) / (S * S - 64);
    expect(meanIn).toBeGreaterThan(meanOut + 0.2);
  });
});

describe.each(withText)('%s', (_label, method, opts) => {
  it('text: the marked token gets the highest score', async () => {
    const a = await method.explain(ctx, 'text', opts);
    expect(a.shape).toEqual([TOY.ids.length - 2]);
    const best = a.scores.indexOf(Math.max(...a.scores));
    expect(best).toBe(TOY.markedPosition - 1); // caption index: BOS dropped
    if (OVER_ALL_TOKENS.has(method)) {
      const others = Array.from(a.scores).filter((_, i) => i !== best);
      expect(a.scores[best]).toBeGreaterThan(Math.max(...others) + 0.2);
    } else {
      expect(a.scores[best]).toBe(1);
    }
  });
});
