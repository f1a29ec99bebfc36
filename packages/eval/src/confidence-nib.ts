// confidence-nib: confidence drop / increase exactly as the NIB evaluation script computes them
// (LMBTough/NIB scripts/eval.py `get_metrics_vt`; docs/metrics.md cites every line):
//  - image: the map gets its batch axis, so the WHOLE map multiplies the normalised image;
//    Y = the clean pair;
//  - text: not binarised. BOS/EOS are stripped for Y and O; O comes from a copy of the model
//    whose token-embedding ROW of each caption id is multiplied by that token's score, in caption
//    order — a repeated id is scaled once per occurrence, so every occurrence sees the product;
//  - drop = max(0, Y − O)·100 (absolute), increase = 100·1[O > Y].
import { scoreIdRows, scoreTokenScales } from '@ceb/core';
import { confidenceMetric, imageScore, maskNormalised } from './confidence';

/**
 * Per position of `ids`, the factor its token embedding ends up with when each id's vocabulary
 * row is multiplied by the score of every position that holds that id.
 */
export function rowScalingFactors(ids: readonly number[], scores: ArrayLike<number>): Float32Array {
  if (ids.length !== scores.length) throw new Error(`row scaling: ${scores.length} scores for ${ids.length} ids`);
  const row = new Map<number, number>();
  ids.forEach((id, i) => row.set(id, (row.get(id) ?? 1) * scores[i]));
  return Float32Array.from(ids, (id) => row.get(id)!);
}

export const confidenceNib = confidenceMetric<Record<string, never>>({
  name: 'confidence-nib',
  protocol: 'nib',
  description:
    'Confidence drop/increase as the NIB evaluation script computes them: absolute drop; image = normalised pixels × the whole map; text = BOS/EOS stripped for Y and O, each caption id’s token-embedding row scaled by its scores (a repeated id by their product)',
  substrate: 'image: dataset mean colour (normalised 0) weighted by 1 − map; text: token embeddings scaled by the scores (vocabulary rows), BOS/EOS stripped from both passes',
  drop: 'absolute',
  params: {},
  async image(ctx) {
    const pixels = (await ctx.pair.pixels.data()) as Float32Array;
    const perturbed = maskNormalised(pixels, ctx.attribution.scores, ctx.model.config.vision.imageSize);
    return { clean: ctx.cache.similarity(), explained: await imageScore(ctx, perturbed) };
  },
  async text(ctx) {
    const stripped = ctx.pair.ids.slice(1, -1);
    const [clean] = await scoreIdRows(ctx.cache, [stripped]);
    const factors = rowScalingFactors(stripped, ctx.attribution.scores);
    const [explained] = await scoreTokenScales(ctx.cache, stripped, factors, 1);
    return { clean, explained };
  },
});
