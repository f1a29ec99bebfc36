// The model-randomisation check (Adebayo et al. 2018) with the harness's own metric
// (packages/eval sanityScore): after the full cascade (every block of both towers re-drawn), each
// method of issue 16 must give maps whose rank correlation with the original's falls below what
// the model-independent controls give (they keep their map exactly, so theirs is 1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, readClipWeights, type ClipModel, type F32Dict, type PairInput } from '@ceb/core';
// The metric lives in eval, which depends on this package, so the test reads its source directly.
import { sanityScore } from '../../eval/src/sanity';
import { attentionSaliency, fastig, gradEclip, ig, legrad, mfaba, nib, random, sobel, type AnyExplainer } from '../src/index';
import { fixtureCase, fixtureContext } from './helpers/fixture-case';

let model: ClipModel;
let weights: F32Dict;
let pairs: PairInput[] = [];
let dispose = () => {};
beforeAll(async () => {
  await initBackend('wasm');
  const first = await fixtureContext(0);
  ({ model, dispose } = first);
  weights = (await readClipWeights(model.source.path)).dict;
  pairs = [first.ctx.pair, await fixtureCase(1)];
});
afterAll(() => {
  pairs[1]?.pixels.dispose();
  dispose();
});

const METHODS: [AnyExplainer, Record<string, unknown>][] = [
  [ig, { steps: 8 }],
  [nib, { layer: 1 }],
  [fastig, {}],
  [mfaba, {}],
  [attentionSaliency, {}],
  [gradEclip, {}],
  [legrad, {}],
];
const runs = METHODS.flatMap(([m, o]) => m.sides.map((side) => [m.name, side, m, o] as const));

describe.each(runs)('%s / %s', (_name, side, method, options) => {
  it('full cascade: rank correlation with the original map below the controls’', async () => {
    const depth = Math.min(model.vision.numLayers, model.text.numLayers);
    const score = async (m: AnyExplainer, o: Record<string, unknown> = {}) => (await sanityScore(m, pairs, { model, side, cascade: [depth], weights, seed: 5, options: o })).correlation[0];
    const controls = [await score(random, { seed: 1 }), ...(side === 'image' ? [await score(sobel)] : [])];
    for (const c of controls) expect(c).toBe(1);
    const rho = await score(method, options);
    expect(rho).toBeLessThan(Math.min(...controls) - 0.3);
  });
});
