// The template every method is written in (`defineExplainer`), and the readouts they share:
// turning raw per-token or per-pixel scores into the contract's maps.
import * as tf from '@tensorflow/tfjs-core';
import {
  dropSpecialTokens,
  gridToImageMap,
  minMax,
  poolIndices,
  resolveLayer,
  resolveOptions,
  tokenScoresToImageMap,
  type Attribution,
  type ExplainContext,
  type Explainer,
  type OptionSpec,
} from '@ceb/core';
import type { Side } from '@ceb/types';

export interface MapResult {
  scores: Float32Array;
  shape: number[];
  flat: boolean;
}

/** What one side of a method computes: the map, and extras for reports and tests. */
export interface SideResult {
  map: MapResult;
  extra?: Record<string, unknown>;
}

export type SideFn<O> = (ctx: ExplainContext, options: O) => SideResult | Promise<SideResult>;

export interface ExplainerSpec<O> {
  name: string;
  description: string;
  options: Record<keyof O & string, OptionSpec>;
  /** What a reader must know beside this method's numbers (reports show it). */
  note?: string;
  /** The image side, when the method explains images. */
  image?: SideFn<O>;
  /** The text side, when the method explains captions (the caption is checked to have a token). */
  text?: SideFn<O>;
}

/**
 * A method from its sides. The template does, once for every method: the side check, the
 * options (defaults filled, each given value checked against its spec, layer options resolved
 * to a block of the explained side's tower), the caption check, and the timing.
 */
export function defineExplainer<O>(spec: ExplainerSpec<O>): Explainer<O> {
  const sides = (['image', 'text'] as const).filter((s) => spec[s] !== undefined);
  const specs = spec.options as Record<string, OptionSpec>;
  return {
    name: spec.name,
    description: spec.description,
    sides,
    options: spec.options,
    ...(spec.note ? { note: spec.note } : {}),
    async explain(ctx, side, options) {
      const fn = spec[side];
      if (!fn) throw new Error(`${spec.name} explains only the ${sides.join(' and ')} side, not "${side}"`);
      const t0 = performance.now();
      const opts = resolveOptions<Record<string, unknown>>(specs, options, spec.name);
      const tower = side === 'image' ? ctx.model.vision : ctx.model.text;
      for (const [key, s] of Object.entries(specs)) {
        if (s.layer) opts[key] = resolveLayer(s.layer, opts[key] as number, tower.numLayers, `${spec.name}: ${key}`, side);
      }
      if (side === 'text') checkCaption(ctx.pair.ids);
      const r = await fn(ctx, opts as O);
      return attribution(spec.name, side, r.map, t0, r.extra);
    },
  };
}

/** Caption must have at least one token between BOS and EOS. */
export function checkCaption(ids: number[]): void {
  if (ids.length < 3) throw new Error(`the caption has ${ids.length} ids; a text map needs BOS, at least one token, and EOS`);
}

export function towerOf(ctx: ExplainContext, side: Side) {
  return side === 'image' ? ctx.model.vision : ctx.model.text;
}

/** Index of the pooled text token (EOS for a normal caption), as the text head pools. */
export function pooledIndex(ids: number[]): number {
  return poolIndices([ids])[0];
}

/** Per-token vision scores (CLS first) → min-max S×S image map. */
export function imageMapFromTokens(tokenScores: ArrayLike<number>, size: number): MapResult {
  const { map, flat } = tokenScoresToImageMap(tokenScores, size);
  return { scores: map, shape: [size, size], flat };
}

/** A pixel map S×S → min-max. */
export function imageMapFromPixels(pixels: ArrayLike<number>, size: number): MapResult {
  const { map, flat } = minMax(pixels, 'image map');
  return { scores: map, shape: [size, size], flat };
}

/** Scores of every text token (BOS … EOS) → caption tokens only, min-max over them. */
export function textMapFromTokens(tokenScores: ArrayLike<number>): MapResult {
  return textMapFromCaption(dropSpecialTokens(tokenScores));
}

/** Scores of the caption tokens only (BOS/EOS already left out) → min-max. */
export function textMapFromCaption(captionScores: ArrayLike<number>): MapResult {
  const { map, flat } = minMax(captionScores, 'text map');
  return { scores: map, shape: [map.length], flat };
}

/** A g×g grid (no CLS) → bilinear up-sampled, min-max S×S image map. */
export function gridMap(grid: ArrayLike<number>, g: number, size: number): MapResult {
  const { map, flat } = gridToImageMap(grid, g, size);
  return { scores: map, shape: [size, size], flat };
}

function attribution(method: string, side: Side, m: MapResult, t0: number, extra?: Record<string, unknown>): Attribution {
  return { method, side, scores: m.scores, shape: m.shape, flat: m.flat, ms: performance.now() - t0, ...(extra ? { extra } : {}) };
}

/** Reads a tensor into a plain array and disposes it (outside any tidy: large arrays must not go back through tidy). */
export function take(t: tf.Tensor): Float32Array {
  const v = (t.dataSync() as Float32Array).slice();
  t.dispose();
  return v;
}
