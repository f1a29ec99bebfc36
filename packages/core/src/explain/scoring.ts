// Scoring perturbed captions, shared by the perturbation methods and the metrics.
import * as tf from '@tensorflow/tfjs-core';
import type { ClipModel } from '../model/clip';
import { cosineRows } from './pair-cache';

/**
 * The target of a batch of caption variants: row b scales the caption's token embeddings by
 * scales[b] before positions are added (0 removes a token and keeps its position), and the
 * text embedding is compared by cosine with `other` (the clean image side). [B, L] → [B].
 */
export function scaledTokenTarget(model: ClipModel, ids: number[], scales: tf.Tensor2D, other: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const t = model.text;
    const tokens = t.tokenEmbeddings([ids]); // [1, L, D], broadcast over the rows
    const h0 = t.embedTokens(tf.mul(tokens, tf.expandDims(scales, 2)) as tf.Tensor3D);
    const idsB = Array.from({ length: scales.shape[0] }, () => ids);
    return cosineRows(t.head(t.runBlocks(h0).h, idsB), other);
  });
}
