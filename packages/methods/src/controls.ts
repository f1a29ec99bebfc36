// Controls: maps that carry no information about the model, so a metric that cannot tell
// them from a real method cannot tell signal from nothing. random: seeded uniform noise
// (both sides), drawn anew for each pair; sobel: edge magnitude of the grey image (image
// only); uniform: equal token scores (text only; a constant map is all zeros and flagged
// flat, as any constant map).
import type { ExplainContext, OptionSpec, OptionsOf } from '@ceb/core';
import { Rng, subSeed } from '@ceb/random';
import { defineExplainer, imageMapFromPixels, textMapFromCaption } from './common';

export const RANDOM_OPTIONS = {
  seed: { type: 'integer', default: 0, description: 'seed of the noise' },
} satisfies Record<string, OptionSpec>;

export type RandomOptions = OptionsOf<typeof RANDOM_OPTIONS>;

/**
 * The same map for every pair would put its maximum at one fixed pixel for the whole data
 * set: its pointing score would measure where that pixel is, not chance. So the stream depends
 * on the pair's content (never on the model): reproducible, and new for each pair.
 */
async function pairRng(ctx: ExplainContext, seed: number, stream: number): Promise<Rng> {
  return new Rng(subSeed(subSeed(seed, stream), pairHash(ctx.pair.ids, await ctx.pair.pixels.data())));
}

export const random = defineExplainer<RandomOptions>({
  name: 'random',
  description: 'control: seeded uniform noise per pixel (image) or per caption token (text), a new draw for each pair',
  options: RANDOM_OPTIONS,
  async image(ctx, o) {
    const rng = await pairRng(ctx, o.seed, 3);
    const s = ctx.model.config.vision.imageSize;
    return { map: imageMapFromPixels(Float32Array.from({ length: s * s }, () => rng.next()), s) };
  },
  async text(ctx, o) {
    const rng = await pairRng(ctx, o.seed, 4);
    return { map: textMapFromCaption(Float32Array.from({ length: ctx.pair.ids.length - 2 }, () => rng.next())) };
  },
});

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

export const sobel = defineExplainer<Record<string, never>>({
  name: 'sobel',
  description: 'control: Sobel gradient magnitude of the grey image (un-normalised RGB → ITU-R 601 luma), image only',
  options: {},
  image(ctx) {
    const s = ctx.model.config.vision.imageSize;
    const px = ctx.pair.pixels.dataSync();
    const { imageMean: mean, imageStd: std } = ctx.model.config;
    const luma = [0.299, 0.587, 0.114];
    const grey = new Float64Array(s * s);
    for (let c = 0; c < 3; c++) for (let i = 0; i < s * s; i++) grey[i] += luma[c] * (px[c * s * s + i] * std[c] + mean[c]);
    return { map: imageMapFromPixels(sobelMagnitude(grey, s, s), s) };
  },
});

export const uniform = defineExplainer<Record<string, never>>({
  name: 'uniform',
  description: 'control: equal scores for every caption token (constant map: all zeros, flagged flat), text only',
  options: {},
  text(ctx) {
    return { map: textMapFromCaption(new Float32Array(ctx.pair.ids.length - 2).fill(1)) };
  },
});
