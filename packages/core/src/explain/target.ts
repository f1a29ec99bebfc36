// The quantity every method explains and every metric scores: the cosine similarity between
// the projected embedding of the explained side — possibly perturbed — and the CLEAN
// projected embedding of the other side (from the pair cache, computed once per pair).
// One definition, so a method's target and a metric's score cannot drift apart.
import * as tf from '@tensorflow/tfjs-core';
import type { Side } from '@ceb/types';
import type { RunOptions, TokenIds } from '../model/tower';
import { cosineRows, type PairCache } from './pair-cache';

/** [B] targets for states `h` [B, L, D] entering block `from` of the explained side's tower (differentiable). */
export function targetOfState(cache: PairCache, side: Side, h: tf.Tensor3D, from: number, run: RunOptions = {}): tf.Tensor1D {
  return tf.tidy(() => {
    const { model } = cache;
    const b = h.shape[0];
    if (side === 'image') return cosineRows(model.vision.head(model.vision.runBlocks(h, from, undefined, run).h), cache.textEmbedding());
    const ids = Array.from({ length: b }, () => cache.pair.ids);
    return cosineRows(model.text.head(model.text.runBlocks(h, from, undefined, run).h, ids), cache.imageEmbedding());
  });
}

/** [B] image-side targets of NCHW normalised pixel batches [B, C, S, S] (differentiable). */
export function targetOfPixels(cache: PairCache, pixels: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => targetOfState(cache, 'image', cache.model.vision.embed(pixels), 0));
}

/** [B] text-side targets of token embeddings [B, L, D] of the pair's ids, before positions are added (differentiable: IG, MFABA, saliency). */
export function targetOfTokenEmbeddings(cache: PairCache, tokens: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => targetOfState(cache, 'text', cache.model.text.embedTokens(tokens), 0));
}

/**
 * [B] text-side targets of caption variants: row b scales the token embeddings of `ids` by
 * scales[b] before positions are added (0 removes a token and keeps its position). `ids`
 * also decide where the text head pools (argmax), so they need not be the pair's own.
 */
export function targetOfTokenScales(cache: PairCache, ids: number[], scales: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const t = cache.model.text;
    const tokens = t.tokenEmbeddings([ids]); // [1, L, D], broadcast over the rows
    const h0 = t.embedTokens(tf.mul(tokens, tf.expandDims(scales, 2)) as tf.Tensor3D);
    const rows = Array.from({ length: scales.shape[0] }, () => ids);
    return cosineRows(t.head(t.runBlocks(h0).h, rows), cache.imageEmbedding());
  });
}

/** [B] text-side targets of id rows of one length (tokens replaced, BOS/EOS stripped, …). */
export function targetOfIds(cache: PairCache, rows: TokenIds): tf.Tensor1D {
  return tf.tidy(() => cosineRows(cache.model.encodeText(rows), cache.imageEmbedding()));
}

/** Runs `target` on chunks of `n` inputs and reads the values back, one chunk in memory at a time. */
async function inChunks(n: number, batch: number, target: (from: number, count: number) => tf.Tensor1D): Promise<Float32Array> {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += batch) {
    const t = target(i, Math.min(batch, n - i));
    out.set((await t.data()) as Float32Array, i);
    t.dispose();
  }
  return out;
}

/** Image-side targets of `n` CHW normalised images stored back to back in `images`. */
export async function scoreImages(cache: PairCache, images: Float32Array, n: number, batch = 16): Promise<Float32Array> {
  const { imageSize: s, numChannels: c } = cache.model.config.vision;
  const size = c * s * s;
  if (images.length !== n * size) throw new Error(`scoreImages: ${n} images need ${n * size} values (${c}×${s}×${s} each), got ${images.length}`);
  return inChunks(n, batch, (i, b) => tf.tidy(() => targetOfPixels(cache, tf.tensor4d(images.subarray(i * size, (i + b) * size), [b, c, s, s]))));
}

/** Image-side targets of the pair's pixels weighted by `n` S×S masks (all channels; masked = 0 in normalised space). */
export async function scorePixelMasks(cache: PairCache, masks: Float32Array, n: number, batch = 32): Promise<Float32Array> {
  const s = cache.model.config.vision.imageSize;
  if (masks.length < n * s * s) throw new Error(`scorePixelMasks: ${n} masks need ${n * s * s} values, got ${masks.length}`);
  return inChunks(n, batch, (i, b) =>
    tf.tidy(() => targetOfPixels(cache, tf.mul(cache.pair.pixels, tf.tensor4d(masks.subarray(i * s * s, (i + b) * s * s), [b, 1, s, s])) as tf.Tensor4D)),
  );
}

/** Text-side targets of `n` rows of per-token scales for `ids`, stored back to back. */
export async function scoreTokenScales(cache: PairCache, ids: number[], scales: Float32Array, n: number, batch = 32): Promise<Float32Array> {
  const l = ids.length;
  if (scales.length < n * l) throw new Error(`scoreTokenScales: ${n} rows of ${l} token scales need ${n * l} values, got ${scales.length}`);
  return inChunks(n, batch, (i, b) => tf.tidy(() => targetOfTokenScales(cache, ids, tf.tensor2d(scales.subarray(i * l, (i + b) * l), [b, l]))));
}

/** Text-side targets of id rows (all of one length). */
export async function scoreIdRows(cache: PairCache, rows: TokenIds, batch = 32): Promise<Float32Array> {
  return inChunks(rows.length, batch, (i, b) => targetOfIds(cache, rows.slice(i, i + b)));
}
