// On the toy CLIP (helpers/toy-model.ts) the image target depends only on the marked patch
// and the text target only on the marked token: every method must put the most mass there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, type ClipModel, type ExplainContext, type PairCache } from '@ceb/core';
import { chefer, gradcam, gradcamElementwise, kernelshap, occlusion, rise, rollout, saliency, type AnyExplainer } from '../src/index';
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
];

describe.each(cases)('%s', (_label, method, opts) => {
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

  it('text: the marked token gets the highest score', async () => {
    const a = await method.explain(ctx, 'text', opts);
    expect(a.shape).toEqual([TOY.ids.length - 2]);
    const best = a.scores.indexOf(Math.max(...a.scores));
    expect(best).toBe(TOY.markedPosition - 1); // caption index: BOS dropped
    expect(a.scores[best]).toBe(1);
  });
});
