// The CLIP contrastive loss with the 60 captions as the text side of every batch and
// multi-positive soft targets (an image matches every caption naming one of its shapes).
import * as tf from '@tensorflow/tfjs-core';
import { LOGIT_SCALE_MAX } from './model';

function l2normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), 1e-12))) as tf.Tensor2D;
}

/**
 * Soft targets [B, T]: 1 where caption t names a shape present in image b. Rows with no
 * positive are impossible (every image's own caption is among the captions).
 */
export function positivesMatrix(present: readonly (readonly number[])[], numCaptions: number): Float32Array {
  const m = new Float32Array(present.length * numCaptions);
  present.forEach((ids, b) => {
    for (const t of ids) m[b * numCaptions + t] = 1;
  });
  return m;
}

/**
 * Symmetric cross-entropy over the logits s·cos(image_b, caption_t):
 * image→caption rows with targets spread evenly over each image's positives, and
 * caption→image rows (only for captions that are positive for some image in the batch)
 * spread over the images containing them. Mean of the two directions.
 * `logitScale` is the log scale (CLIP's parameter), clamped at ln 100.
 */
export function clipLoss(imageEmb: tf.Tensor2D, textEmb: tf.Tensor2D, logitScale: tf.Tensor, positives: Float32Array): tf.Scalar {
  return tf.tidy(() => {
    const [b] = imageEmb.shape;
    const [t] = textEmb.shape;
    const scale = tf.exp(tf.minimum(logitScale, LOGIT_SCALE_MAX));
    const logits = tf.mul(tf.matMul(l2normalize(imageEmb), l2normalize(textEmb), false, true), scale) as tf.Tensor2D;
    const pos = tf.tensor2d(positives, [b, t]);
    // image → caption
    const rowTargets = tf.div(pos, tf.sum(pos, 1, true));
    const lossI = tf.neg(tf.mean(tf.sum(tf.mul(rowTargets, tf.logSoftmax(logits)), 1)));
    // caption → image, over captions that occur in the batch
    const posT = tf.transpose(pos);
    const counts = tf.sum(posT, 1, true);
    const valid = tf.cast(tf.greater(counts, 0), 'float32');
    const colTargets = tf.div(posT, tf.maximum(counts, 1));
    const perCaption = tf.neg(tf.sum(tf.mul(colTargets, tf.logSoftmax(tf.transpose(logits))), 1, true));
    const lossT = tf.div(tf.sum(tf.mul(perCaption, valid)), tf.sum(valid));
    return tf.mul(tf.add(lossI, lossT), 0.5) as tf.Scalar;
  });
}
