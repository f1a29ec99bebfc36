// RISE (Petsiuk et al., BMVC 2018): random binary s×s grids with keep-probability p,
// bilinearly up-sampled to (s+1)·cell, randomly shifted and cropped to S×S;
// map = Σ score(x ⊙ m)·m / (N·p). Text: independent token keep-masks.
import { resizeBilinear, type OptionSpec, type OptionsOf } from '@ceb/core';
import { defineExplainer, imageMapFromPixels, textMapFromCaption } from './common';
import { Rng, subSeed } from '@ceb/random';
import { BATCH_SIZE_OPTION, modelScorer, textMaskFromCaption, type MaskScorer } from './scorer';

export const RISE_OPTIONS = {
  masks: { type: 'integer', default: 6000, min: 1, description: 'image masks N (paper: 6000)' },
  cells: { type: 'integer', default: 8, min: 1, description: 'grid cells per side s (paper: 8)' },
  keepProb: { type: 'number', default: 0.1, min: 1e-6, max: 1, description: 'image keep-probability p (paper: 0.1)' },
  textMasks: { type: 'integer', default: 1000, min: 1, description: 'text masks (our choice: captions have few tokens)' },
  textKeepProb: { type: 'number', default: 0.5, min: 1e-6, max: 1, description: 'token keep-probability (our choice: 0.5, so a mask keeps half the caption)' },
  seed: { type: 'integer', default: 0, description: 'seed of the masks' },
  batchSize: BATCH_SIZE_OPTION,
} satisfies Record<string, OptionSpec>;

export type RiseOptions = OptionsOf<typeof RISE_OPTIONS>;

export interface RiseImageParams {
  masks: number;
  cells: number;
  keepProb: number;
  seed: number;
  /** Masks generated and scored at a time (memory: chunk·S² floats). */
  chunk?: number;
}

/** Fills `out` (S×S) with one RISE mask. */
export function riseMask(rng: Rng, size: number, cells: number, keepProb: number, out: Float32Array, offset = 0): void {
  const cell = Math.ceil(size / cells);
  const up = (cells + 1) * cell;
  const grid = new Float32Array(cells * cells);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.next() < keepProb ? 1 : 0;
  const big = resizeBilinear(grid, cells, cells, up, up);
  const dx = rng.int(cell);
  const dy = rng.int(cell);
  for (let y = 0; y < size; y++) {
    const row = (y + dy) * up + dx;
    for (let x = 0; x < size; x++) out[offset + y * size + x] = big[row + x];
  }
}

/** The RISE pixel map (before min-max) for any scorer of S×S pixel masks. */
export async function riseImage(scorer: MaskScorer, size: number, p: RiseImageParams): Promise<Float64Array> {
  if (scorer.maskSize !== size * size) throw new Error(`rise: scorer takes masks of ${scorer.maskSize} values, expected ${size}×${size}`);
  const rng = new Rng(subSeed(p.seed, 0));
  const chunk = Math.max(1, p.chunk ?? 64);
  const sal = new Float64Array(size * size);
  const buf = new Float32Array(chunk * size * size);
  for (let done = 0; done < p.masks; done += chunk) {
    const n = Math.min(chunk, p.masks - done);
    for (let i = 0; i < n; i++) riseMask(rng, size, p.cells, p.keepProb, buf, i * size * size);
    const scores = await scorer.score(buf, n);
    for (let i = 0; i < n; i++) {
      const sc = scores[i];
      const off = i * size * size;
      for (let j = 0; j < size * size; j++) sal[j] += sc * buf[off + j];
    }
  }
  const norm = p.masks * p.keepProb;
  for (let j = 0; j < sal.length; j++) sal[j] /= norm;
  return sal;
}

/** RISE over caption tokens (BOS/EOS always kept): per caption token Σ score·m / (N·p). */
export async function riseText(scorer: MaskScorer, p: { masks: number; keepProb: number; seed: number; chunk?: number }): Promise<Float64Array> {
  const l = scorer.maskSize;
  const n = l - 2;
  if (n < 1) throw new Error(`rise: the caption has no token between BOS and EOS`);
  const rng = new Rng(subSeed(p.seed, 1));
  const chunk = Math.max(1, p.chunk ?? 256);
  const sal = new Float64Array(n);
  const buf = new Float32Array(chunk * l);
  const keep = new Float32Array(n);
  for (let done = 0; done < p.masks; done += chunk) {
    const b = Math.min(chunk, p.masks - done);
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < n; j++) keep[j] = rng.next() < p.keepProb ? 1 : 0;
      textMaskFromCaption(keep, buf, i * l);
    }
    const scores = await scorer.score(buf, b);
    for (let i = 0; i < b; i++) for (let j = 0; j < n; j++) sal[j] += scores[i] * buf[i * l + 1 + j];
  }
  for (let j = 0; j < n; j++) sal[j] /= p.masks * p.keepProb;
  return sal;
}

export const rise = defineExplainer<RiseOptions>({
  name: 'rise',
  description:
    'RISE (Petsiuk et al. 2018): N random s×s keep-grids (prob. p), bilinear up-sampling, random shift; map = Σ score·mask / (N·p). ' +
    'Masked pixels = 0 in normalised space. Text: independent token keep-masks (1000 masks, p = 0.5 by default: our choice).',
  options: RISE_OPTIONS,
  async image(ctx, o) {
    const s = ctx.model.config.vision.imageSize;
    const sal = await riseImage(modelScorer(ctx, 'image', o.batchSize), s, { masks: o.masks, cells: o.cells, keepProb: o.keepProb, seed: o.seed, chunk: o.batchSize });
    return { map: imageMapFromPixels(sal, s), extra: { masks: o.masks } };
  },
  async text(ctx, o) {
    const sal = await riseText(modelScorer(ctx, 'text', o.batchSize), { masks: o.textMasks, keepProb: o.textKeepProb, seed: o.seed, chunk: o.batchSize });
    return { map: textMapFromCaption(sal), extra: { masks: o.textMasks } };
  },
});
