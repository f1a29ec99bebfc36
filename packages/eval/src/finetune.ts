// ROAR's "finetune" probe: a fresh trainable copy of the model, a linear head on the
// L2-normalised projected image embedding, and the vision tower + head trained end to end
// with cross-entropy (mini-batch Adam from core, so nothing outlives the run).
import * as tf from '@tensorflow/tfjs-core';
import { Adam, buildClip, checkShapes, type ClipConfig, type ClipModel, type F32Dict } from '@ceb/core';
import { Rng } from '@ceb/random';

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

function checkFinetuneInputs(
  config: ClipConfig,
  trainImgs: Float32Array[],
  trainY: number[],
  testImgs: Float32Array[],
  testY: number[],
  opts: FinetuneOptions,
): void {
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
}

/** The images at `idx` as one NCHW batch. */
export function packImages(imgs: Float32Array[], idx: number[], vision: ClipConfig['vision']): tf.Tensor4D {
  const { imageSize: s, numChannels: c } = vision;
  const per = c * s * s;
  const flat = new Float32Array(idx.length * per);
  idx.forEach((j, r) => flat.set(imgs[j], r * per));
  return tf.tensor4d(flat, [idx.length, c, s, s]);
}

export function indices(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** `order` cut into consecutive mini-batches of `size` (the last one may be shorter). */
export function miniBatches(order: number[], size: number): number[][] {
  return Array.from({ length: Math.ceil(order.length / size) }, (_, b) => order.slice(b * size, (b + 1) * size));
}

/** L2-normalised image embeddings of a batch (the features both ROAR probes read). */
export function normalisedEmbedding(model: ClipModel, px: tf.Tensor4D): tf.Tensor {
  const e = model.encodeImage(px);
  return tf.div(e, tf.maximum(tf.norm(e, 'euclidean', 1, true), 1e-12));
}

/** Mean normalised embedding [P] of the training images under the fresh model. */
function trainingMean(model: ClipModel, trainImgs: Float32Array[], batch: number): tf.Tensor1D {
  const p = model.config.projectionDim;
  const mu = new Float64Array(p);
  for (const idx of miniBatches(indices(trainImgs.length), batch)) {
    const f = tf.tidy(() => normalisedEmbedding(model, packImages(trainImgs, idx, model.config.vision)));
    const d = f.dataSync();
    f.dispose();
    for (let r = 0; r < idx.length; r++) for (let j = 0; j < p; j++) mu[j] += d[r * p + j];
  }
  const n = trainImgs.length;
  return tf.tensor1d(Float32Array.from(mu, (m) => m / n));
}

interface LinearHead {
  w: tf.Variable;
  b: tf.Variable;
}

function initialHead(seed: number, p: number, classes: number): LinearHead {
  // Inside a tidy: a variable does not free the tensor it was made from.
  const [w, b] = tf.tidy(() => [tf.variable(tf.tensor2d(new Rng(seed).normals(p * classes, 0.01), [p, classes]), true), tf.variable(tf.zeros([classes]), true)]);
  return { w, b };
}

/**
 * Trains the vision tower and the head together, mini-batch Adam over softmax cross-entropy,
 * each epoch in a fresh seeded order.
 */
function trainEndToEnd(
  model: ClipModel,
  head: LinearHead,
  logitsOf: (px: tf.Tensor4D) => tf.Tensor,
  trainImgs: Float32Array[],
  trainY: number[],
  classes: number,
  opts: FinetuneOptions,
): void {
  const tower = [...model.params].filter(([k]) => isVisionParam(k)).map(([, x]) => x as tf.Variable);
  const vars = [...tower, head.w, head.b];
  const headLr = opts.lr * (opts.headLrFactor ?? FINETUNE_HEAD_LR_FACTOR);
  const adams = vars.map((x) => new Adam(x.shape, x === head.w || x === head.b ? headLr : opts.lr));
  const rng = new Rng(opts.seed + 0x51ed27);
  try {
    for (let e = 0; e < opts.epochs; e++) {
      for (const idx of miniBatches(rng.shuffleInPlace(indices(trainImgs.length)), opts.batch)) {
        const px = packImages(trainImgs, idx, model.config.vision);
        const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(idx.map((k) => trainY[k]), 'int32'), classes), 'float32'));
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, logitsOf(px)) as tf.Scalar, vars);
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
}

/** Share of test images whose arg-max logit is their label; a label of −1 is always wrong. */
function testAccuracy(logitsOf: (px: tf.Tensor4D) => tf.Tensor, vision: ClipConfig['vision'], testImgs: Float32Array[], testY: number[], batch: number): number {
  if (testImgs.length === 0) return NaN;
  let right = 0;
  for (const idx of miniBatches(indices(testImgs.length), batch)) {
    const pred = tf.tidy(() => tf.argMax(logitsOf(packImages(testImgs, idx, vision)), 1));
    const d = pred.dataSync();
    pred.dispose();
    idx.forEach((k, r) => {
      if (testY[k] >= 0 && d[r] === testY[k]) right++;
    });
  }
  return right / testImgs.length;
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
  checkFinetuneInputs(config, trainImgs, trainY, testImgs, testY, opts);
  checkShapes(weights, config, 'finetune weights');
  const model = buildClip(weights, config, { path: '(roar finetune copy)', layout: 'hf', configFrom: 'given' }, { trainable: true });
  const kept: tf.Tensor[] = [];
  try {
    // Centred on the fresh model's training mean (CLIP embeddings share a large common
    // direction), scaled by √P so a unit vector has unit RMS per dimension. Not divided by
    // per-dimension std as the linear probe is: a barely-varying dimension of the fresh model
    // would amplify the tower's first updates without bound (the loss diverged that way).
    const p = config.projectionDim;
    const mu = trainingMean(model, trainImgs, opts.batch);
    kept.push(mu);
    const head = initialHead(opts.seed, p, classes);
    kept.push(head.w, head.b);
    const logitsOf = (px: tf.Tensor4D) => tf.add(tf.matMul(tf.mul(tf.sub(normalisedEmbedding(model, px), mu), Math.sqrt(p)), head.w), head.b);

    trainEndToEnd(model, head, logitsOf, trainImgs, trainY, classes, opts);
    return testAccuracy(logitsOf, config.vision, testImgs, testY, opts.batch);
  } finally {
    tf.dispose(kept);
    model.dispose();
  }
}
