// The scorer of the perturbation methods (RISE, occlusion, KernelSHAP): the target of a
// batch of masked inputs, through core's one target. Image masks weight every pixel (all
// channels) in normalised space, so a masked pixel becomes 0 = the dataset mean colour; text
// masks scale token embeddings (before positions), so a removed token keeps only its position.
// Methods take a MaskScorer, so tests can inject a scorer with exactly known attributions.
// With a worker pool in the context, each batch of masks is shared out over its threads (the
// same scores: rows are independent and every thread runs the same kernels).
import { pooledScores, scorePixelMasksTask, scoreTokenScalesTask, type ExplainContext } from '@ceb/core';
import type { Side } from '@ceb/types';

export interface MaskScorer {
  /** Length of one mask: image S·S (row-major pixels), text L (every token, BOS … EOS). */
  readonly maskSize: number;
  /** `n` masks back to back (length n·maskSize) → the target of each masked input. */
  score(masks: Float32Array, n: number): Float32Array | Promise<Float32Array>;
}

export const BATCH_SIZE_OPTION = {
  type: 'integer',
  default: 32,
  min: 1,
  description: 'perturbed inputs per forward pass',
} as const;

/** Scores masked inputs with the model: target = cos(embedding of the masked side, clean other side). */
export function modelScorer(ctx: ExplainContext, side: Side, batchSize = 32): MaskScorer {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  const { cache, pool } = ctx;
  if (side === 'image') {
    const s = ctx.model.config.vision.imageSize;
    return { maskSize: s * s, score: (masks, n) => pooledScores(pool, cache, scorePixelMasksTask, masks, n, s * s, { batch: batchSize }) };
  }
  const ids = ctx.pair.ids;
  return { maskSize: ids.length, score: (masks, n) => pooledScores(pool, cache, scoreTokenScalesTask, masks, n, ids.length, { batch: batchSize, ids }) };
}

/** Text masks keep BOS (index 0) and EOS (last): they are not caption tokens. */
export function textMaskFromCaption(caption: ArrayLike<number>, out: Float32Array, offset: number): void {
  const l = caption.length + 2;
  out[offset] = 1;
  for (let j = 0; j < caption.length; j++) out[offset + 1 + j] = caption[j];
  out[offset + l - 1] = 1;
}
