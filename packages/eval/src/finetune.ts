// ROAR's "finetune" probe: a fresh trainable copy of the model, a linear head on the
// L2-normalised projected image embedding, and the vision tower + head trained end to end
// with cross-entropy (mini-batch Adam from core, so nothing outlives the run).
import * as tf from '@tensorflow/tfjs-core';
import { Adam, buildClip, checkShapes, type ClipConfig, type ClipModel, type F32Dict } from '@ceb/core';
import { Rng } from '@ceb/datasets';

export interface FinetuneOptions {
  seed: number;
  /** Passes over the training images (0: no training, the fresh head on the fresh model). */
  epochs: number;
  /** Adam learning rate of the vision tower; the head uses `lr · headLrFactor`. */
  lr: number;
  /** Images per mini-batch (and per forward pass when measuring). */
  batch: number;
  headLrFactor?: number;
}

/**
 * The head starts from N(0, 0.01²) and would barely move at a fine-tuning learning rate
 * within a few epochs; it trains this many times faster than the tower.
 */
export const FINETUNE_HEAD_LR_FACTOR = 100;

function isVisionParam(name: string): boolean {
  return name.startsWith('vision_model.') || name.startsWith('visual_projection.');
}

/**
 * Fine-tunes a fresh trainable copy of `weights` (vision tower + a linear head over `classes`)
 * on the training images and returns the accuracy on the test images. The head reads the
 * L2-normalised projected embedding, centred with the fresh model's training mean and scaled
 * by √P; it starts from N(0, 0.01²) (seeded), biases 0, and learns `headLrFactor`× faster
 * than the tower. Mini-batch Adam (PyTorch's form, no weight decay), softmax cross-entropy;
 * each epoch visits the training images in a seeded order. A test label of −1 (never seen in
 * training) is always wrong. The text tower is built (buildClip makes both) but not trained.
 */
export function finetuneAccuracy(
  weights: F32Dict,
  config: ClipConfig,
  trainImgs: Float32Array[],
  trainY: number[],
  testImgs: Float32Array[],
  testY: number[],
  classes: number,
  opts: FinetuneOptions,
): number {
  const { imageSize: s, numChannels: c } = config.vision;
  const per = c * s * s;
  if (trainImgs.length === 0) throw new Error('finetune: the training split is empty');
  if (trainImgs.length !== trainY.length || testImgs.length !== testY.length) throw new Error('finetune: images and labels differ in number');
  for (const [where, imgs] of [['train', trainImgs], ['test', testImgs]] as const)
    imgs.forEach((im, i) => {
      if (im.length !== per) throw new Error(`finetune: ${where} image ${i} has ${im.length} values, the model takes ${c}×${s}×${s} = ${per}`);
    });
  if (!(opts.batch >= 1) || !Number.isInteger(opts.batch)) throw new Error(`finetune: batch must be a positive integer, got ${opts.batch}`);
  if (!(opts.epochs >= 0) || !Number.isInteger(opts.epochs)) throw new Error(`finetune: epochs must be a non-negative integer, got ${opts.epochs}`);
  if (!(opts.lr >= 0)) throw new Error(`finetune: lr must be ≥ 0, got ${opts.lr}`);
  checkShapes(weights, config, 'finetune weights');

  // A copy of the map: buildClip adds logit_scale to the map it is given.
  const model = buildClip(new Map(weights), config, { path: '(roar finetune copy)', layout: 'hf', configFrom: 'given' }, { trainable: true });
  const kept: tf.Tensor[] = [];
  try {
    const tower = [...model.params].filter(([k]) => isVisionParam(k)).map(([, x]) => x as tf.Variable);
    const pack = (imgs: Float32Array[], idx: number[]) => {
      const flat = new Float32Array(idx.length * per);
      idx.forEach((j, r) => flat.set(imgs[j], r * per));
      return tf.tensor4d(flat, [idx.length, c, s, s]);
    };
    const normalised = (px: tf.Tensor4D) => {
      const e = model.encodeImage(px);
      return tf.div(e, tf.maximum(tf.norm(e, 'euclidean', 1, true), 1e-12));
    };
    const batches = (n: number, order: number[]) => Array.from({ length: Math.ceil(n / opts.batch) }, (_, b) => order.slice(b * opts.batch, (b + 1) * opts.batch));
    const identity = (n: number) => Array.from({ length: n }, (_, i) => i);

    // Centred on the fresh model's training mean (CLIP embeddings share a large common
    // direction), scaled by √P so a unit vector has unit RMS per dimension. Not divided by
    // per-dimension std as the linear probe is: a barely-varying dimension of the fresh model
    // would amplify the tower's first updates without bound (the loss diverged that way).
    const p = config.projectionDim;
    const mu = new Float64Array(p);
    for (const idx of batches(trainImgs.length, identity(trainImgs.length))) {
      const f = tf.tidy(() => normalised(pack(trainImgs, idx)));
      const d = f.dataSync();
      f.dispose();
      for (let r = 0; r < idx.length; r++) for (let j = 0; j < p; j++) mu[j] += d[r * p + j];
    }
    const n = trainImgs.length;
    const muT = tf.tensor1d(Float32Array.from(mu, (m) => m / n));
    kept.push(muT);
    const logitsOf = (px: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor) => tf.add(tf.matMul(tf.mul(tf.sub(normalised(px), muT), Math.sqrt(p)), w), b);

    // Inside a tidy: a variable does not free the tensor it was made from.
    const [w, b] = tf.tidy(() => [tf.variable(tf.tensor2d(new Rng(opts.seed).normals(p * classes, 0.01), [p, classes]), true), tf.variable(tf.zeros([classes]), true)]);
    kept.push(w, b);
    const vars = [...tower, w, b];
    const lrOf = vars.map((x) => (x === w || x === b ? opts.lr * (opts.headLrFactor ?? FINETUNE_HEAD_LR_FACTOR) : opts.lr));
    const adams = vars.map((x, i) => new Adam(x.shape, lrOf[i]));
    const rng = new Rng(opts.seed + 0x51ed27);
    try {
      for (let e = 0; e < opts.epochs; e++) {
        const order = identity(n);
        for (let i = n - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        for (const idx of batches(n, order)) {
          const px = pack(trainImgs, idx);
          const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(idx.map((k) => trainY[k]), 'int32'), classes), 'float32'));
          const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, logitsOf(px, w, b)) as tf.Scalar, vars);
          vars.forEach((x, i) => {
            const next = adams[i].step(x, grads[x.name]);
            x.assign(next);
            next.dispose();
          });
          tf.dispose([px, y, value, ...Object.values(grads)]);
        }
      }
    } finally {
      for (const a of adams) a.dispose();
    }

    if (testImgs.length === 0) return NaN;
    let right = 0;
    for (const idx of batches(testImgs.length, identity(testImgs.length))) {
      const pred = tf.tidy(() => tf.argMax(logitsOf(pack(testImgs, idx), w, b), 1));
      const d = pred.dataSync();
      pred.dispose();
      idx.forEach((k, r) => {
        if (testY[k] >= 0 && d[r] === testY[k]) right++;
      });
    }
    return right / testImgs.length;
  } finally {
    tf.dispose(kept);
    model.dispose();
  }
}
