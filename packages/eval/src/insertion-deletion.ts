// Insertion / deletion (Petsiuk et al., RISE). Pixels (or caption tokens) ordered by
// decreasing saliency, ties by index. Deletion: from the input, `step` units per iteration
// become the substrate; insertion: from the substrate (a blurred copy for images, all
// tokens removed for text), `step` units per iteration are restored. The score is taken at
// every step including the first and last; AUC = (Σ s − s₀/2 − s_last/2)/(n − 1).
import { pooledScores, scoreIdRows, scoreImagesTask, scoreTokenScales, type PairCache, type WorkerPool } from '@ceb/core';
import { blurCHW, checkImageMap, checkTextScores, curveAuc, rankDescending, type BlurPadding } from './perturb';
import { resolveParams, type MetricResult, type PairMetric } from './types';

/** Scores CHW normalised images (one forward pass per call). */
export type ImageScorer = (images: Float32Array[]) => Promise<number[]>;
/** Scores caption variants given per-caption-token keep factors (1 kept … 0 removed). */
export type TokenScorer = (keeps: Float32Array[]) => Promise<number[]>;
export type TextSubstrate = 'id0' | 'zero-embedding';

/** The pair's target of whole images; with a pool of several threads, each call's images are shared out over it (the same scores). */
export function imageScorer(cache: PairCache, batch = 16, pool?: WorkerPool): ImageScorer {
  return async (images) => {
    const size = images[0]?.length ?? 0;
    const flat = new Float32Array(images.length * size);
    images.forEach((im, j) => flat.set(im, j * size));
    const scores = await pooledScores(pool, cache, scoreImagesTask, flat, images.length, size, { batch });
    return Array.from(scores);
  };
}

/**
 * Token scorer over the caption tokens of the pair (BOS … EOS, both always kept so pooling
 * stays on the EOS): a removed token becomes id 0 ('id0') or has its token embedding
 * zeroed, keeping its position embedding ('zero-embedding').
 */
export function tokenScorer(cache: PairCache, substrate: TextSubstrate, batch = 32): TokenScorer {
  const ids = cache.pair.ids;
  return async (keeps) => {
    if (substrate === 'id0') {
      const rows = keeps.map((k) => ids.map((id, j) => (j === 0 || j === ids.length - 1 || k[j - 1] >= 0.5 ? id : 0)));
      return Array.from(await scoreIdRows(cache, rows, batch));
    }
    const scales = new Float32Array(keeps.length * ids.length).fill(1);
    keeps.forEach((k, r) => scales.set(k, r * ids.length + 1));
    return Array.from(await scoreTokenScales(cache, ids, scales, keeps.length, batch));
  };
}

export interface Curves {
  deletion: number[];
  insertion: number[];
  /** Units removed / restored at each point. */
  counts: number[];
}

function stepCounts(n: number, step: number): number[] {
  if (!Number.isInteger(step) || step < 1) throw new Error(`insertion/deletion: step must be a positive integer, got ${step}`);
  const counts: number[] = [];
  for (let k = 0; ; k++) {
    const c = Math.min(k * step, n);
    counts.push(c);
    if (c === n) break;
  }
  return counts;
}

/**
 * Image curves on a C×H×W image (any normalisation): deletion sets the top pixels (all
 * channels) to `substrate`; insertion starts from `start` and copies the top pixels back.
 * Images are built and scored `chunk` at a time, so memory stays at one chunk.
 */
export async function imageCurves(opts: {
  image: Float32Array;
  channels: number;
  map: Float32Array;
  start: Float32Array;
  step: number;
  score: ImageScorer;
  substrate?: number;
  chunk?: number;
}): Promise<Curves> {
  const { image, channels: c, map, start, step, score, substrate = 0, chunk = 16 } = opts;
  const hw = map.length;
  if (image.length !== c * hw || start.length !== image.length) {
    throw new Error(`insertion/deletion: image (${image.length}) and start (${start.length}) must have ${c}×${hw} values`);
  }
  const order = rankDescending(map);
  const counts = stepCounts(hw, step);
  const run = async (from: Float32Array, value: (k: number) => number): Promise<number[]> => {
    const work = from.slice();
    let done = 0;
    const scores: number[] = [];
    for (let i = 0; i < counts.length; i += chunk) {
      const batch: Float32Array[] = [];
      for (const cnt of counts.slice(i, i + chunk)) {
        for (; done < cnt; done++) {
          const p = order[done];
          for (let ch = 0; ch < c; ch++) work[ch * hw + p] = value(ch * hw + p);
        }
        batch.push(work.slice());
      }
      scores.push(...(await score(batch)));
    }
    return scores;
  };
  const deletion = await run(image, () => substrate);
  const insertion = await run(start, (k) => image[k]);
  return { deletion, insertion, counts };
}

/** Token curves over the caption tokens: keep factors 1 (present) / 0 (removed). */
export async function tokenCurves(opts: { scores: Float32Array; step: number; score: TokenScorer }): Promise<Curves> {
  const { scores, step, score } = opts;
  const n = scores.length;
  const order = rankDescending(scores);
  const counts = stepCounts(n, step);
  const rows = (init: number, set: number) =>
    counts.map((cnt) => {
      const k = new Float32Array(n).fill(init);
      for (let i = 0; i < cnt; i++) k[order[i]] = set;
      return k;
    });
  const deletion = await score(rows(1, 0));
  const insertion = await score(rows(0, 1));
  return { deletion, insertion, counts };
}

export interface InsertionDeletionParams extends Record<string, number | string | boolean> {
  step: number;
  textStep: number;
  blurSize: number;
  blurSigma: number;
  blurPadding: BlurPadding;
  insertionStart: 'blur' | 'substrate';
  textSubstrate: TextSubstrate;
  batch: number;
}

export const insertionDeletion: PairMetric<InsertionDeletionParams> = {
  kind: 'pair',
  name: 'insertion-deletion',
  description: 'RISE insertion and deletion AUC (image pixels or caption tokens by decreasing saliency)',
  category: 'faithfulness',
  higherIsBetter: { insertion: true, deletion: false },
  curves: {
    insertion: { kind: 'score', x: 'fraction of pixels (tokens) inserted', y: 'score', higherIsBetter: true },
    deletion: { kind: 'score', x: 'fraction of pixels (tokens) deleted', y: 'score', higherIsBetter: false },
    counts: { kind: 'internal', x: 'step', y: 'pixels (tokens) removed or restored' },
  },
  substrate:
    'image deletion: 0 in normalised space (the mean colour); image insertion starts from a Gaussian blur (kernel 11, σ 5) of the normalised image, or from the deletion substrate with insertionStart: substrate; text: id 0 (or zeroed token embedding) with BOS/EOS kept',
  params: {
    step: { type: 'integer', default: 224, min: 1, description: 'pixels removed/inserted per iteration (224 or 1792 in the RISE paper at 224²)' },
    textStep: { type: 'integer', default: 1, min: 1, description: 'caption tokens removed/inserted per iteration' },
    blurSize: { type: 'integer', default: 11, min: 1, description: 'Gaussian kernel size of the insertion start image (odd)' },
    blurSigma: { type: 'number', default: 5, min: 1e-6, description: 'Gaussian σ of the insertion start image' },
    blurPadding: { type: 'string', default: 'reflect', choices: ['reflect', 'zero'], description: 'border handling of the blur (reflect: mirror without repeating the edge; zero: the RISE code)' },
    insertionStart: {
      type: 'string',
      default: 'blur',
      choices: ['blur', 'substrate'],
      // Flat-coloured objects (the synthetic set) survive the blur: the blurred image scores
      // about as high as the input, so every insertion curve is flat and the AUC says nothing.
      description: 'image insertion starts from the blurred image (RISE) or from the deletion substrate (the mean colour)',
    },
    textSubstrate: { type: 'string', default: 'id0', choices: ['id0', 'zero-embedding'], description: 'what a removed caption token becomes' },
    batch: { type: 'integer', default: 16, min: 1, description: 'perturbed inputs per forward pass' },
  },
  sides: ['image', 'text'],
  async evaluate(ctx, given): Promise<MetricResult> {
    const p = resolveParams<InsertionDeletionParams>('insertion-deletion', this.params, given);
    const { model, pair, cache, attribution: a } = ctx;
    let curves: Curves;
    if (a.side === 'image') {
      const { imageSize: s, numChannels: c } = model.config.vision;
      checkImageMap(a.scores, s);
      const image = (await pair.pixels.data()) as Float32Array;
      const start =
        p.insertionStart === 'substrate'
          ? new Float32Array(image.length) // 0 in normalised space, as deletion's substrate
          : blurCHW(image, c, s, s, { size: p.blurSize, sigma: p.blurSigma, padding: p.blurPadding });
      curves = await imageCurves({ image, channels: c, map: a.scores, start, step: p.step, score: imageScorer(cache, p.batch, ctx.pool), chunk: p.batch });
    } else {
      checkTextScores(a.scores, pair.ids);
      curves = await tokenCurves({ scores: a.scores, step: p.textStep, score: tokenScorer(cache, p.textSubstrate, p.batch) });
    }
    return {
      values: { insertion: curveAuc(curves.insertion), deletion: curveAuc(curves.deletion) },
      curves: { insertion: curves.insertion, deletion: curves.deletion, counts: curves.counts },
      meta: { step: a.side === 'image' ? p.step : p.textStep, substrate: a.side === 'image' ? `normalised 0 / ${p.insertionStart === 'blur' ? 'blur' : 'normalised 0'}` : p.textSubstrate },
    };
  },
};
