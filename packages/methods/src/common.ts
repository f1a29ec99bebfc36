// What every baseline shares: option defaults and checks, layer indices, the target
// computed from a hidden state, and turning raw scores into the contract's maps.
import * as tf from '@tensorflow/tfjs-core';
import {
  cosineRows,
  poolIndices,
  resolveOptions as resolveOptionsChecked,
  dropSpecialTokens,
  gridToImageMap,
  minMax,
  tokenScoresToImageMap,
  type Attribution,
  type ExplainContext,
  type Explainer,
  type OptionSpec,
  type RunOptions,
  type Side,
} from '@ceb/core';

/** Fills defaults and checks every given option against its spec (unknown names, types, bounds). */
export function resolveOptions<O>(method: string, specs: Record<string, OptionSpec>, given: Partial<O> | undefined): O {
  return resolveOptionsChecked<O>(specs, given, method);
}

export function checkSide(e: Pick<Explainer, 'name' | 'sides'>, side: Side): void {
  if (!e.sides.includes(side)) throw new Error(`${e.name} explains only the ${e.sides.join(' and ')} side, not "${side}"`);
}

/**
 * A block index: 0…n−1, or negative from the end (−1 = the last block), so one default
 * means the same depth on towers of any size.
 */
export function resolveLayer(value: number, numLayers: number, what: string): number {
  const k = value < 0 ? numLayers + value : value;
  if (!Number.isInteger(k) || k < 0 || k >= numLayers) {
    throw new Error(`${what} ${value} is outside the tower's blocks 0…${numLayers - 1} (or −1…−${numLayers} from the end)`);
  }
  return k;
}

export function towerOf(ctx: ExplainContext, side: Side) {
  return side === 'image' ? ctx.model.vision : ctx.model.text;
}

/** Caption must have at least one token between BOS and EOS. */
export function checkCaption(ids: number[]): void {
  if (ids.length < 3) throw new Error(`the caption has ${ids.length} ids; a text map needs BOS, at least one token, and EOS`);
}

/**
 * The target for a batch of states entering block `from`: cosine between the projected
 * embedding of the explained side and the clean embedding of the other side. [B]
 */
export function targetFromState(ctx: ExplainContext, side: Side, h: tf.Tensor3D, from: number, run: RunOptions = {}): tf.Tensor1D {
  const b = h.shape[0];
  const out = towerOf(ctx, side).runBlocks(h, from, undefined, run).h;
  const emb = side === 'image' ? ctx.model.vision.head(out) : ctx.model.text.head(out, Array.from({ length: b }, () => ctx.pair.ids));
  return cosineRows(emb, ctx.cache.otherEmbedding(side));
}

/** Index of the pooled text token (EOS for a normal caption), as the text head pools. */
export function pooledIndex(ids: number[]): number {
  return poolIndices([ids])[0];
}

export interface MapResult {
  scores: Float32Array;
  shape: number[];
  flat: boolean;
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

export function attribution(method: string, side: Side, m: MapResult, t0: number, extra?: Record<string, unknown>): Attribution {
  return { method, side, scores: m.scores, shape: m.shape, flat: m.flat, ms: performance.now() - t0, ...(extra ? { extra } : {}) };
}

/** Reads a tensor into a plain array and disposes it (outside any tidy: large arrays must not go back through tidy). */
export function take(t: tf.Tensor): Float32Array {
  const v = (t.dataSync() as Float32Array).slice();
  t.dispose();
  return v;
}

/** A g×g grid (no CLS) → bilinear up-sampled, min-max S×S image map. */
export function gridMap(grid: ArrayLike<number>, g: number, size: number): MapResult {
  const { map, flat } = gridToImageMap(grid, g, size);
  return { scores: map, shape: [size, size], flat };
}
