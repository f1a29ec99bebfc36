// "Score" = cosine similarity between the projected embedding of the (perturbed) explained
// side and the CLEAN other side, which comes from the pair cache (computed once per pair).
import * as tf from '@tensorflow/tfjs-core';
import { cosineRows, scaledTokenTarget, type ClipModel } from '@ceb/core';

/** Scores CHW normalised images in batches of `batch`. */
export type ImageScorer = (images: Float32Array[]) => Promise<number[]>;
/** Scores caption variants given per-caption-token keep factors (1 kept … 0 removed). */
export type TokenScorer = (keeps: Float32Array[]) => Promise<number[]>;

export function imageScorer(model: ClipModel, other: tf.Tensor2D, batch = 16): ImageScorer {
  const s = model.config.vision.imageSize;
  const c = model.config.vision.numChannels;
  return async (images) => {
    const out: number[] = [];
    for (let i = 0; i < images.length; i += batch) {
      const chunk = images.slice(i, i + batch);
      const flat = new Float32Array(chunk.length * c * s * s);
      chunk.forEach((im, j) => {
        if (im.length !== c * s * s) throw new Error(`image ${i + j} has ${im.length} values, expected ${c}×${s}×${s}`);
        flat.set(im, j * c * s * s);
      });
      const cos = tf.tidy(() => cosineRows(model.encodeImage(tf.tensor4d(flat, [chunk.length, c, s, s])), other));
      out.push(...(await cos.data()));
      cos.dispose();
    }
    return out;
  };
}

/** Cosine of the text embeddings of id rows (all rows of one call must have the same length). */
export async function scoreIdRows(model: ClipModel, other: tf.Tensor2D, rows: number[][], batch = 32): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < rows.length; i += batch) {
    const cos = tf.tidy(() => cosineRows(model.encodeText(rows.slice(i, i + batch)), other));
    out.push(...(await cos.data()));
    cos.dispose();
  }
  return out;
}

/** Cosine of the text embeddings when each token embedding (no positions) is scaled per row. */
export async function scoreScaledTokens(model: ClipModel, other: tf.Tensor2D, ids: number[], scales: Float32Array[], batch = 32): Promise<number[]> {
  const l = ids.length;
  const out: number[] = [];
  for (let i = 0; i < scales.length; i += batch) {
    const chunk = scales.slice(i, i + batch);
    const flat = new Float32Array(chunk.length * l);
    chunk.forEach((sc, j) => {
      if (sc.length !== l) throw new Error(`token scales row ${i + j} has ${sc.length} values for ${l} tokens`);
      flat.set(sc, j * l);
    });
    const cos = tf.tidy(() => scaledTokenTarget(model, ids, tf.tensor2d(flat, [chunk.length, l]), other));
    out.push(...(await cos.data()));
    cos.dispose();
  }
  return out;
}

export type TextSubstrate = 'id0' | 'zero-embedding';

/**
 * Token scorer over the caption tokens of `ids` (BOS … EOS, both always kept so pooling
 * stays on the EOS): a removed token becomes id 0 ('id0') or has its token embedding
 * zeroed, keeping its position embedding ('zero-embedding').
 */
export function tokenScorer(model: ClipModel, other: tf.Tensor2D, ids: number[], substrate: TextSubstrate, batch = 32): TokenScorer {
  return async (keeps) => {
    if (substrate === 'id0') {
      const rows = keeps.map((k) => ids.map((id, j) => (j === 0 || j === ids.length - 1 || k[j - 1] >= 0.5 ? id : 0)));
      return scoreIdRows(model, other, rows, batch);
    }
    const scales = keeps.map((k) => {
      const s = new Float32Array(ids.length).fill(1);
      s.set(k, 1);
      return s;
    });
    return scoreScaledTokens(model, other, ids, scales, batch);
  };
}
