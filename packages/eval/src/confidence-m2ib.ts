// confidence-m2ib: confidence drop / increase exactly as the M2IB evaluation script computes them
// (YingWANGG/M2IB scripts/eval.py `get_metrics` with pytorch-grad-cam's DropInConfidence /
// IncreaseInConfidence; docs/metrics.md cites every line), quirks included:
//  - image: the map reaches the metric as [S, S] without a batch axis, so `cams[0]` is its TOP
//    ROW and it weights every row of the normalised image (imageMask: full = the whole map);
//    Y = the clean pair;
//  - text: BOS/EOS are stripped BEFORE both passes, so Y is the stripped caption (pooled at its
//    largest id) against the clean image; O keeps the tokens strictly above the numpy median
//    and replaces the others by id 0;
//  - drop = max(0, Y − O)·100 (absolute), increase = 100·1[O > Y].
import { scoreIdRows } from '@ceb/core';
import { confidenceMetric, imageScore, maskNormalised } from './confidence';
import { m2ibTextMask } from './perturb';

export const confidenceM2ib = confidenceMetric<{ imageMask: string }>({
  name: 'confidence-m2ib',
  protocol: 'm2ib',
  description:
    'Confidence drop/increase as the M2IB evaluation script computes them: absolute drop; image = normalised pixels × the map’s top row (imageMask: full = the whole map); text = BOS/EOS stripped for Y and O, tokens above the median kept, the rest id 0',
  substrate: 'image: dataset mean colour (normalised 0) weighted by 1 − map (top row by default); text: id 0 for tokens at or below the median, BOS/EOS stripped from both passes',
  drop: 'absolute',
  params: {
    imageMask: {
      type: 'string',
      default: 'top-row',
      choices: ['top-row', 'full'],
      description: "top-row: every image row weighted by the map's top row, as the script runs; full: the whole map (the script's evident intent)",
    },
  },
  async image(ctx, p) {
    const pixels = (await ctx.pair.pixels.data()) as Float32Array;
    const size = ctx.model.config.vision.imageSize;
    const perturbed = maskNormalised(pixels, ctx.attribution.scores, size, p.imageMask === 'top-row' ? 'top' : 'all');
    return { clean: ctx.cache.similarity(), explained: await imageScore(ctx, perturbed) };
  },
  async text(ctx) {
    const stripped = ctx.pair.ids.slice(1, -1);
    const [clean, explained] = await scoreIdRows(ctx.cache, [stripped, m2ibTextMask(ctx.pair.ids, ctx.attribution.scores)]);
    return { clean, explained };
  },
});
