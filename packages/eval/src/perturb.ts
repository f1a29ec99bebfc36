// Plain-JS image and token operations shared by the metrics: exact, no gradients needed.
import { median } from '@ceb/stats';

/** Normalised 1-D Gaussian weights exp(−x²/2σ²), x = −(size−1)/2 … (size−1)/2. */
export function gaussianKernel1d(size: number, sigma: number): Float64Array {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new Error(`gaussian kernel size must be a positive odd integer, got ${size}`);
  if (!(sigma > 0)) throw new Error(`gaussian sigma must be > 0, got ${sigma}`);
  const r = (size - 1) / 2;
  const k = new Float64Array(size);
  let s = 0;
  for (let i = 0; i < size; i++) s += k[i] = Math.exp(-((i - r) ** 2) / (2 * sigma * sigma));
  for (let i = 0; i < size; i++) k[i] /= s;
  return k;
}

export type BlurPadding = 'reflect' | 'zero';

/** numpy/torch 'reflect' index (the edge is not repeated), folded until inside [0, n). */
function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
}

/**
 * One line of n values `step` apart, convolved with the odd kernel k (centred): dst at the same
 * positions. Borders: reflect (mirror without repeating the edge) or zero.
 */
function convolveLine(src: ArrayLike<number>, off: number, step: number, n: number, k: Float64Array, padding: BlurPadding, dst: Float64Array | Float32Array, dstOff: number): void {
  const r = (k.length - 1) / 2;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = -r; t <= r; t++) {
      const j = i + t;
      if (j < 0 || j >= n) {
        if (padding === 'zero') continue;
        s += k[t + r] * src[off + reflectIndex(j, n) * step];
      } else s += k[t + r] * src[off + j * step];
    }
    dst[dstOff + i * step] = s;
  }
}

/**
 * Separable Gaussian blur of each channel of a CHW image (horizontal pass, then vertical).
 * 'reflect' pads by mirror reflection without repeating the edge (torchvision's
 * GaussianBlur); 'zero' pads with 0 (the RISE code's conv2d padding, 0 = the mean colour in
 * normalised space).
 */
export function blurCHW(x: Float32Array, c: number, h: number, w: number, opts: { size?: number; sigma?: number; padding?: BlurPadding } = {}): Float32Array {
  const { size = 11, sigma = 5, padding = 'reflect' } = opts;
  if (x.length !== c * h * w) throw new Error(`blur: image has ${x.length} values, expected ${c}×${h}×${w}`);
  const k = gaussianKernel1d(size, sigma);
  const tmp = new Float64Array(h * w);
  const out = new Float32Array(x.length);
  for (let ch = 0; ch < c; ch++) {
    const base = ch * h * w;
    for (let y = 0; y < h; y++) convolveLine(x, base + y * w, 1, w, k, padding, tmp, y * w);
    for (let xx = 0; xx < w; xx++) convolveLine(tmp, xx, w, h, k, padding, out, base + xx);
  }
  return out;
}

/** Indices by decreasing score; ties keep the lower index first (a stable, documented order). */
export function rankDescending(scores: ArrayLike<number>): Int32Array {
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i])) throw new Error(`map has NaN at index ${i}`);
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  return Int32Array.from(idx);
}

/** Trapezoid on [0, 1] over n equally spaced points: (Σ s − s₀/2 − s_last/2)/(n − 1). */
export function curveAuc(s: ArrayLike<number>): number {
  const n = s.length;
  if (n < 2) throw new Error(`an AUC needs at least 2 points, got ${n}`);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i];
  return (sum - s[0] / 2 - s[n - 1] / 2) / (n - 1);
}

/** Trapezoid over arbitrary x (e.g. ROAR fractions). */
export function trapezoid(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`trapezoid: ${x.length} x values for ${y.length} y values`);
  let a = 0;
  for (let i = 1; i < x.length; i++) a += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return a;
}

/**
 * The official M2IB evaluation's text masking: the caption WITHOUT BOS/EOS, tokens whose
 * score is strictly above the median kept, the rest replaced by id 0. The median is numpy's
 * (mean of the two middle values for an even count). `ids` is BOS … EOS; `scores` one per
 * caption token. The result has no BOS/EOS, so the text head pools at the largest kept id.
 */
export function m2ibTextMask(ids: readonly number[], scores: ArrayLike<number>): number[] {
  const caption = ids.slice(1, -1);
  if (caption.length !== scores.length) {
    throw new Error(`text scores: ${scores.length} values for ${caption.length} caption tokens (BOS/EOS excluded)`);
  }
  if (caption.length === 0) throw new Error('text masking: the caption has no tokens between BOS and EOS');
  const m = median(scores);
  return caption.map((id, i) => (scores[i] > m ? id : 0));
}

/** Checks an image map against the model size. */
export function checkImageMap(scores: Float32Array, size: number, what = 'image attribution'): void {
  if (scores.length !== size * size) throw new Error(`${what}: ${scores.length} scores, expected ${size}×${size} = ${size * size}`);
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i])) throw new Error(`${what}: NaN at index ${i}`);
}

export function checkTextScores(scores: Float32Array, ids: readonly number[], what = 'text attribution'): void {
  if (scores.length !== ids.length - 2) {
    throw new Error(`${what}: ${scores.length} scores for a caption of ${ids.length - 2} tokens (BOS/EOS excluded)`);
  }
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i])) throw new Error(`${what}: NaN at index ${i}`);
}
