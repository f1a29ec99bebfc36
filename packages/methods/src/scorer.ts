// The shared scorer of the perturbation methods (RISE, occlusion, KernelSHAP): the target
// of a batch of masked inputs. Image masks weight every pixel (all channels) in normalised
// space, so a masked pixel becomes 0 = the dataset mean colour; text masks scale token
// embeddings (before positions), so a removed token contributes only its position.
// Methods take a MaskScorer, so tests can inject a scorer with exactly known attributions.
import * as tf from '@tensorflow/tfjs-core';
import { scaledTokenTarget, type ExplainContext, type Side } from '@ceb/core';
import { targetFromState, take } from './common';

export interface MaskScorer {
  /** Length of one mask: image S·S (row-major pixels), text L (every token, BOS … EOS). */
  readonly maskSize: number;
  /** `n` masks back to back (length n·maskSize) → the target of each masked input. */
  score(masks: Float32Array, n: number): Float32Array;
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
  const { model, pair } = ctx;
  if (side === 'image') {
    const s = model.config.vision.imageSize;
    const maskSize = s * s;
    return {
      maskSize,
      score(masks, n) {
        checkMasks(masks, n, maskSize);
        const out = new Float32Array(n);
        for (let i = 0; i < n; i += batchSize) {
          const b = Math.min(batchSize, n - i);
          const t = tf.tidy(() => {
            const m = tf.tensor4d(masks.subarray(i * maskSize, (i + b) * maskSize), [b, 1, s, s]);
            const x = tf.mul(pair.pixels, m) as tf.Tensor4D;
            return targetFromState(ctx, 'image', model.vision.embed(x), 0);
          });
          out.set(take(t), i);
        }
        return out;
      },
    };
  }
  const ids = pair.ids;
  const l = ids.length;
  return {
    maskSize: l,
    score(masks, n) {
      checkMasks(masks, n, l);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i += batchSize) {
        const b = Math.min(batchSize, n - i);
        const t = tf.tidy(() => scaledTokenTarget(model, ids, tf.tensor2d(masks.subarray(i * l, (i + b) * l), [b, l]), ctx.cache.otherEmbedding('text')));
        out.set(take(t), i);
      }
      return out;
    },
  };
}

function checkMasks(masks: Float32Array, n: number, size: number): void {
  if (masks.length < n * size) throw new Error(`scorer: ${n} masks need ${n * size} values, got ${masks.length}`);
}

/** Text masks keep BOS (index 0) and EOS (last): they are not caption tokens. */
export function textMaskFromCaption(caption: ArrayLike<number>, out: Float32Array, offset: number): void {
  const l = caption.length + 2;
  out[offset] = 1;
  for (let j = 0; j < caption.length; j++) out[offset + 1 + j] = caption[j];
  out[offset + l - 1] = 1;
}
