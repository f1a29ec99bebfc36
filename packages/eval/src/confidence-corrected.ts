// confidence-corrected: confidence drop / increase as Grad-CAM++ (Chattopadhay et al., WACV 2018)
// defines them. Image: map ⊙ image in PIXEL space (un-normalise, multiply, re-normalise: a removed
// pixel is black); text: each caption token's embedding scaled by its score, BOS/EOS at 1.
// Y = the clean pair on both sides; drop = max(0, Y − O)/Y·100 (relative), increase = 100·1[O > Y].
import { scoreTokenScales } from '@ceb/core';
import { confidenceMetric, imageScore, maskPixelSpace } from './confidence';

export const confidenceCorrected = confidenceMetric<Record<string, never>>({
  name: 'confidence-corrected',
  protocol: 'corrected',
  description: 'Confidence drop/increase as Grad-CAM++ defines them (relative drop; map ⊙ image in pixel space, token embeddings scaled by scores)',
  substrate: 'image: black (pixel value 0) weighted by 1 − map; text: token embedding scaled by the score',
  drop: 'relative',
  params: {},
  async image(ctx) {
    const pixels = (await ctx.pair.pixels.data()) as Float32Array;
    return { clean: ctx.cache.similarity(), explained: await imageScore(ctx, maskPixelSpace(ctx.model, pixels, ctx.attribution.scores)) };
  },
  async text(ctx) {
    const ids = ctx.pair.ids;
    const scales = new Float32Array(ids.length).fill(1);
    scales.set(ctx.attribution.scores, 1);
    return { clean: ctx.cache.similarity(), explained: (await scoreTokenScales(ctx.cache, ids, scales, 1))[0] };
  },
});
