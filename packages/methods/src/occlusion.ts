// Occlusion (Zeiler & Fergus 2014): slide a k×k window of the fill value (0 in normalised
// space = the mean colour) with stride k/2; a pixel's importance = the mean score drop over
// the windows that cover it. Text: remove one caption token at a time.
import type { OptionSpec, OptionsOf } from '@ceb/core';
import { defineExplainer, imageMapFromPixels, textMapFromCaption } from './common';
import { BATCH_SIZE_OPTION, modelScorer, type MaskScorer } from './scorer';

export const OCCLUSION_OPTIONS = {
  window: { type: 'integer', default: 0, min: 0, description: 'window side k in pixels; 0 = the model patch size (32 for ViT-B/32)' },
  stride: { type: 'integer', default: 0, min: 0, description: 'stride in pixels; 0 = window / 2' },
  batchSize: BATCH_SIZE_OPTION,
} satisfies Record<string, OptionSpec>;

export type OcclusionOptions = OptionsOf<typeof OCCLUSION_OPTIONS>;

/** Window start positions along one axis: every `stride`, plus the last that touches the border. */
export function windowStarts(size: number, window: number, stride: number): number[] {
  if (window < 1 || window > size) throw new Error(`occlusion: window ${window} must be within 1…${size}`);
  if (stride < 1) throw new Error(`occlusion: stride must be ≥ 1, got ${stride}`);
  const starts: number[] = [];
  for (let p = 0; p + window <= size; p += stride) starts.push(p);
  if (starts[starts.length - 1] !== size - window) starts.push(size - window);
  return starts;
}

/** Mean score drop per pixel (before min-max). The first mask scored is the clean input. */
export async function occlusionImage(scorer: MaskScorer, size: number, window: number, stride: number, chunk = 32): Promise<Float64Array> {
  if (scorer.maskSize !== size * size) throw new Error(`occlusion: scorer takes masks of ${scorer.maskSize} values, expected ${size}×${size}`);
  const starts = windowStarts(size, window, stride);
  const wins: [number, number][] = [];
  for (const y of starts) for (const x of starts) wins.push([y, x]);
  const sum = new Float64Array(size * size);
  const count = new Float64Array(size * size);
  const clean = (await scorer.score(new Float32Array(size * size).fill(1), 1))[0];
  const buf = new Float32Array(chunk * size * size);
  for (let i = 0; i < wins.length; i += chunk) {
    const n = Math.min(chunk, wins.length - i);
    buf.fill(1);
    for (let k = 0; k < n; k++) {
      const [y0, x0] = wins[i + k];
      for (let y = y0; y < y0 + window; y++) buf.fill(0, k * size * size + y * size + x0, k * size * size + y * size + x0 + window);
    }
    const scores = await scorer.score(buf, n);
    for (let k = 0; k < n; k++) {
      const drop = clean - scores[k];
      const [y0, x0] = wins[i + k];
      for (let y = y0; y < y0 + window; y++) {
        for (let x = x0; x < x0 + window; x++) {
          sum[y * size + x] += drop;
          count[y * size + x] += 1;
        }
      }
    }
  }
  for (let j = 0; j < sum.length; j++) sum[j] /= count[j];
  return sum;
}

/** Score drop when each caption token alone is removed (BOS/EOS kept). */
export async function occlusionText(scorer: MaskScorer): Promise<Float64Array> {
  const l = scorer.maskSize;
  const n = l - 2;
  if (n < 1) throw new Error('occlusion: the caption has no token between BOS and EOS');
  const buf = new Float32Array((n + 1) * l).fill(1);
  for (let j = 0; j < n; j++) buf[(j + 1) * l + 1 + j] = 0;
  const scores = await scorer.score(buf, n + 1);
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) out[j] = scores[0] - scores[j + 1];
  return out;
}

export const occlusion = defineExplainer<OcclusionOptions>({
  name: 'occlusion',
  description: 'occlusion (Zeiler & Fergus 2014): k×k window of the fill value (0 = mean colour), stride k/2, mean score drop per pixel; text: drop one token at a time',
  options: OCCLUSION_OPTIONS,
  async image(ctx, o) {
    const s = ctx.model.config.vision.imageSize;
    const window = o.window || ctx.model.config.vision.patchSize;
    const stride = o.stride || Math.max(1, Math.floor(window / 2));
    const m = await occlusionImage(modelScorer(ctx, 'image', o.batchSize), s, window, stride, o.batchSize);
    return { map: imageMapFromPixels(m, s), extra: { window, stride } };
  },
  async text(ctx, o) {
    return { map: textMapFromCaption(await occlusionText(modelScorer(ctx, 'text', o.batchSize))) };
  },
});
