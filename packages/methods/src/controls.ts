// Controls: maps that carry no information about the model, so a metric that cannot tell
// them from a real method cannot tell signal from nothing. random: seeded uniform noise
// (both sides), drawn anew for each pair; sobel: edge magnitude of the grey image (image
// only); uniform: equal token scores (text only; a constant map is all zeros and flagged
// flat, as any constant map).
import type { Explainer, OptionSpec } from '@ceb/core';
import { attribution, checkCaption, checkSide, imageMapFromPixels, resolveOptions, textMapFromCaption } from './common';
import { Rng, subSeed } from '@ceb/random';

export interface RandomOptions {
  seed: number;
}

export const RANDOM_OPTIONS: Record<keyof RandomOptions, OptionSpec> = {
  seed: { type: 'integer', default: 0, description: 'seed of the noise' },
};

export const random: Explainer<RandomOptions> = {
  name: 'random',
  description: 'control: seeded uniform noise per pixel (image) or per caption token (text), a new draw for each pair',
  sides: ['image', 'text'],
  options: RANDOM_OPTIONS,
  async explain(ctx, side, options) {
    const t0 = performance.now();
    const o = resolveOptions<RandomOptions>('random', RANDOM_OPTIONS, options);
    // The same map for every pair would put its maximum at one fixed pixel for the whole data
    // set: its pointing score would measure where that pixel is, not chance. So the stream
    // depends on the pair's content (never on the model): reproducible, and new for each pair.
    const rng = new Rng(subSeed(subSeed(o.seed, side === 'image' ? 3 : 4), pairHash(ctx.pair.ids, await ctx.pair.pixels.data())));
    if (side === 'image') {
      const s = ctx.model.config.vision.imageSize;
      const v = Float32Array.from({ length: s * s }, () => rng.next());
      return attribution('random', side, imageMapFromPixels(v, s), t0);
    }
    checkCaption(ctx.pair.ids);
    const v = Float32Array.from({ length: ctx.pair.ids.length - 2 }, () => rng.next());
    return attribution('random', side, textMapFromCaption(v), t0);
  },
};

/** FNV-1a over the caption ids and the pixel values' bits: a seed stream per pair. */
export function pairHash(ids: readonly number[], pixels: ArrayLike<number>): number {
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    h = Math.imul(h ^ (x >>> 0), 0x01000193) >>> 0;
  };
  for (const id of ids) mix(id);
  const bits = new Uint32Array(Float32Array.from(pixels).buffer);
  for (let i = 0; i < bits.length; i++) mix(bits[i]);
  return h;
}

/**
 * Sobel gradient magnitude of a grey image [S·S] (edges replicated at the borders).
 */
export function sobelMagnitude(grey: ArrayLike<number>, h: number, w: number): Float64Array {
  const at = (y: number, x: number) => grey[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))];
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const gx = at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y, x - 1) - at(y + 1, x - 1);
      const gy = at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y - 1, x) - at(y - 1, x + 1);
      out[y * w + x] = Math.hypot(gx, gy);
    }
  }
  return out;
}

export const sobel: Explainer<Record<string, never>> = {
  name: 'sobel',
  description: 'control: Sobel gradient magnitude of the grey image (un-normalised RGB → ITU-R 601 luma), image only',
  sides: ['image'],
  options: {},
  async explain(ctx, side, options) {
    checkSide(sobel, side);
    const t0 = performance.now();
    resolveOptions('sobel', {}, options);
    const s = ctx.model.config.vision.imageSize;
    const px = ctx.pair.pixels.dataSync();
    const { imageMean: mean, imageStd: std } = ctx.model.config;
    const luma = [0.299, 0.587, 0.114];
    const grey = new Float64Array(s * s);
    for (let c = 0; c < 3; c++) for (let i = 0; i < s * s; i++) grey[i] += luma[c] * (px[c * s * s + i] * std[c] + mean[c]);
    return attribution('sobel', side, imageMapFromPixels(sobelMagnitude(grey, s, s), s), t0);
  },
};

export const uniform: Explainer<Record<string, never>> = {
  name: 'uniform',
  description: 'control: equal scores for every caption token (constant map: all zeros, flagged flat), text only',
  sides: ['text'],
  options: {},
  async explain(ctx, side, options) {
    checkSide(uniform, side);
    const t0 = performance.now();
    resolveOptions('uniform', {}, options);
    checkCaption(ctx.pair.ids);
    return attribution('uniform', side, textMapFromCaption(new Float32Array(ctx.pair.ids.length - 2).fill(1)), t0);
  },
};
