// Confidence drop / increase (Chattopadhay et al., Grad-CAM++). Two metrics, one per mode, so
// the mode is in the metric name and in every result's meta:
//  - confidence-corrected: the paper's definition. Image: map ⊙ image in PIXEL space
//    (un-normalise, multiply, re-normalise: removed pixels are black); text: each caption
//    token's embedding scaled by its score, BOS/EOS at 1. drop = max(0, Y−O)/Y × 100.
//  - confidence-m2ib: what the official M2IB evaluation computes. Image: normalised pixels ×
//    map (removed pixels become the dataset mean colour); text: BOS/EOS stripped, tokens
//    strictly above the (numpy) median kept, the rest → id 0, re-encoded without BOS/EOS
//    (pooling falls on the largest kept id). drop = max(0, Y−O) × 100 (absolute).
// Both: increase = 1[O > Y] × 100. Y = clean cosine (from the pair cache), O = explained input.
// Per pair values; the mean over pairs is taken at report time.
import { scoreIdRows, scoreImages, scoreTokenScales, type ClipModel } from '@ceb/core';
import { checkImageMap, checkTextScores, m2ibTextMask } from './perturb';
import type { MetricResult, PairMetric, PairMetricContext } from './types';

export type ConfidenceMode = 'corrected' | 'm2ib';

/** map ⊙ image: corrected in pixel space, m2ib in normalised space. */
export function maskImage(model: ClipModel, pixels: Float32Array, map: Float32Array, mode: ConfidenceMode): Float32Array {
  const { imageSize: s, numChannels: c } = model.config.vision;
  const { imageMean: mean, imageStd: std } = model.config;
  const out = new Float32Array(pixels.length);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < s * s; i++) {
      const k = ch * s * s + i;
      out[k] = mode === 'm2ib' ? pixels[k] * map[i] : ((pixels[k] * std[ch] + mean[ch]) * map[i] - mean[ch]) / std[ch];
    }
  }
  return out;
}

export async function confidenceScores(ctx: PairMetricContext, mode: ConfidenceMode): Promise<{ clean: number; explained: number }> {
  const { model, pair, cache, attribution: a } = ctx;
  const clean = cache.similarity();
  let explained: number;
  if (a.side === 'image') {
    checkImageMap(a.scores, model.config.vision.imageSize);
    const pixels = (await pair.pixels.data()) as Float32Array;
    [explained] = await scoreImages(cache, maskImage(model, pixels, a.scores, mode), 1, 1);
  } else {
    checkTextScores(a.scores, pair.ids);
    if (mode === 'm2ib') {
      [explained] = await scoreIdRows(cache, [m2ibTextMask(pair.ids, a.scores)]);
    } else {
      const scales = new Float32Array(pair.ids.length).fill(1);
      scales.set(a.scores, 1);
      [explained] = await scoreTokenScales(cache, pair.ids, scales, 1);
    }
  }
  return { clean, explained };
}

/** The per-pair numbers from Y (clean) and O (explained). */
export function confidenceValues(clean: number, explained: number, mode: ConfidenceMode): { drop: number; increase: number } {
  const loss = Math.max(0, clean - explained);
  // corrected divides by Y; a non-positive clean similarity has no relative drop.
  const drop = mode === 'm2ib' ? loss * 100 : clean > 0 ? (loss / clean) * 100 : NaN;
  return { drop, increase: explained > clean ? 100 : 0 };
}

function confidenceMetric(mode: ConfidenceMode): PairMetric {
  return {
    kind: 'pair',
    name: `confidence-${mode}`,
    description:
      mode === 'corrected'
        ? 'Confidence drop/increase as Grad-CAM++ defines them (relative drop; map ⊙ image in pixel space, token embeddings scaled by scores)'
        : 'Confidence drop/increase as the official M2IB evaluation computes them (absolute drop; normalised pixels × map; text median rule with id 0)',
    category: 'faithfulness',
    higherIsBetter: { drop: false, increase: true },
    binary: { increase: 100 },
    protocol: mode,
    substrate:
      mode === 'corrected'
        ? 'image: black (pixel value 0) weighted by 1 − map; text: token embedding scaled by the score'
        : 'image: dataset mean colour (normalised 0) weighted by 1 − map; text: id 0 for tokens at or below the median, BOS/EOS dropped',
    params: {},
    sides: ['image', 'text'],
    async evaluate(ctx): Promise<MetricResult> {
      const { clean, explained } = await confidenceScores(ctx, mode);
      // Y and O go to meta: they describe the pair, not the quality of the map.
      return { values: confidenceValues(clean, explained, mode), meta: { mode, clean, explained } };
    },
  };
}

export const confidenceCorrected = confidenceMetric('corrected');
export const confidenceM2ib = confidenceMetric('m2ib');
