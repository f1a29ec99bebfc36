// Confidence drop / increase (Chattopadhay et al., Grad-CAM++), and what the three metrics
// built on it share: the per-pair formulas and the template. Each protocol is its own module,
// named for the script it reproduces (docs/metrics.md cites the lines):
//  - confidence-m2ib: the M2IB evaluation script (scripts/eval.py get_metrics), quirks included;
//  - confidence-nib: the NIB evaluation script (scripts/eval.py get_metrics_vt);
//  - confidence-corrected: the paper's definitions.
// Per pair: Y = the unperturbed score, O = the score of the explained input (both in `meta`),
// increase = 100·1[O > Y]; the mean over pairs is taken at report time.
import { scoreImages, type ClipModel, type OptionSpec } from '@ceb/core';
import { checkImageMap, checkTextScores } from './perturb';
import { resolveParams, type MetricResult, type PairMetric, type PairMetricContext, type ParamValues } from './types';

/** How the drop is expressed: absolute (the scripts: max(0, Y − O)·100) or relative to Y (Grad-CAM++: max(0, Y − O)/Y·100). */
export type DropKind = 'absolute' | 'relative';

/** The per-pair numbers from Y (clean) and O (explained). A relative drop is undefined (NaN) for Y ≤ 0. */
export function confidenceValues(clean: number, explained: number, drop: DropKind): { drop: number; increase: number } {
  const loss = Math.max(0, clean - explained);
  const d = drop === 'absolute' ? loss * 100 : clean > 0 ? (loss / clean) * 100 : NaN;
  return { drop: d, increase: explained > clean ? 100 : 0 };
}

export const CONFIDENCE_UNITS: Record<DropKind, Record<'drop' | 'increase', string>> = {
  absolute: { drop: 'cosine×100', increase: 'percent of pairs' },
  relative: { drop: 'percent of Y', increase: 'percent of pairs' },
};

/**
 * Normalised pixels × a map [S·S] in normalised space (a removed pixel becomes the dataset mean
 * colour). `rows: 'top'` weights every image row by the map's TOP row, as the M2IB script does
 * (it passes the map without its batch axis, so pytorch-grad-cam's `cams[0]` is the first row).
 */
export function maskNormalised(pixels: Float32Array, map: Float32Array, size: number, rows: 'all' | 'top' = 'all'): Float32Array {
  const hw = size * size;
  const out = new Float32Array(pixels.length);
  for (let k = 0; k < pixels.length; k++) {
    const i = k % hw;
    out[k] = pixels[k] * map[rows === 'top' ? i % size : i];
  }
  return out;
}

/** map ⊙ image in PIXEL space: un-normalise, multiply, re-normalise (a removed pixel is black). */
export function maskPixelSpace(model: ClipModel, pixels: Float32Array, map: Float32Array): Float32Array {
  const { imageSize: s } = model.config.vision;
  const { imageMean: mean, imageStd: std } = model.config;
  const hw = s * s;
  return Float32Array.from(pixels, (v, k) => {
    const ch = Math.floor(k / hw);
    return ((v * std[ch] + mean[ch]) * map[k % hw] - mean[ch]) / std[ch];
  });
}

/** The image side's O: the target of one perturbed image. */
export async function imageScore(ctx: PairMetricContext, perturbed: Float32Array): Promise<number> {
  return (await scoreImages(ctx.cache, perturbed, 1, 1))[0];
}

/** One protocol: how it scores Y and O on each side. */
export interface ConfidenceProtocol<P extends ParamValues> {
  name: string;
  protocol: string;
  description: string;
  substrate: string;
  drop: DropKind;
  params: Record<string, OptionSpec>;
  image(ctx: PairMetricContext, params: P): Promise<{ clean: number; explained: number }>;
  text(ctx: PairMetricContext, params: P): Promise<{ clean: number; explained: number }>;
}

/** A confidence metric from its protocol: the checks, the formulas, the declarations. */
export function confidenceMetric<P extends ParamValues>(p: ConfidenceProtocol<P>): PairMetric<P> {
  return {
    kind: 'pair',
    name: p.name,
    description: p.description,
    category: 'faithfulness',
    higherIsBetter: { drop: false, increase: true },
    binary: { increase: 100 },
    units: CONFIDENCE_UNITS[p.drop],
    protocol: p.protocol,
    substrate: p.substrate,
    params: p.params,
    sides: ['image', 'text'],
    async evaluate(ctx, given): Promise<MetricResult> {
      const params = resolveParams<P>(p.name, p.params, given);
      const a = ctx.attribution;
      if (a.side === 'image') checkImageMap(a.scores, ctx.model.config.vision.imageSize);
      else checkTextScores(a.scores, ctx.pair.ids);
      const { clean, explained } = a.side === 'image' ? await p.image(ctx, params) : await p.text(ctx, params);
      // Y and O go to meta: they describe the pair, not the quality of the map.
      return { values: confidenceValues(clean, explained, p.drop), meta: { mode: p.protocol, clean, explained } };
    },
  };
}
