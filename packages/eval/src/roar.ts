// ROAR — remove and retrain (Hooker et al., NeurIPS 2019). For each fraction t: the top-t
// pixels of every image (by the method's map) become the per-channel mean of the TRAINING
// split (normalised space), in both splits; a probe is retrained on the masked training
// split and measured on the masked test split. A random ranking is always run alongside.
// A faster drop (lower area under accuracy-vs-fraction) is a better attribution.
import * as tf from '@tensorflow/tfjs-core';
import { Adam, readClipWeights, type ClipModel, type F32Dict } from '@ceb/core';
import { Rng, split, type Sample, type SplitBy } from '@ceb/datasets';
import { finetuneAccuracy } from './finetune';
import { rankDescending, trapezoid } from './perturb';
import type { DatasetMetric } from './types';

export interface RoarItem {
  /** CHW normalised pixel values, as the vision tower takes them. */
  pixels: Float32Array;
  /** Retrieval labels: the caption text (or, when absent, its token ids). */
  caption?: string;
  ids?: number[];
  /** Category labels (MS-CXR finding). */
  category?: string;
}

export type RoarMapFn = (item: RoarItem, index: number, split: 'train' | 'test') => Float32Array | Promise<Float32Array>;
/** Frozen features of a batch of (masked) images. */
export type Featurizer = (images: Float32Array[]) => Promise<Float32Array[]>;

export interface RoarOptions {
  /** Gives the default featurizer (projected image embeddings) and the channel count; the model fine-tuned by probe "finetune". */
  model?: ClipModel;
  /** Overrides the model's features (tests use raw pixels); linear probe only. */
  featurize?: Featurizer;
  /** Probe "finetune": the weights each run starts from (HF names); default: read once from `model.source.path`. */
  weights?: F32Dict;
  channels?: number;
  train: RoarItem[];
  test: RoarItem[];
  /** One map per item per method, [H·W] row-major; higher = more important. */
  methods: Record<string, RoarMapFn>;
  fractions?: number[];
  probe?: 'linear' | 'finetune';
  task?: 'retrieval' | 'category';
  seed?: number;
  /** Linear: full-batch Adam steps; finetune: epochs. Absent or 0: the probe's default (ROAR_PROBE_DEFAULTS). */
  epochs?: number;
  /** Adam learning rate (finetune: of the vision tower; the head's is 100× this). Absent or 0: the probe's default. */
  lr?: number;
  /** Images per forward pass of the default featurizer; finetune: images per mini-batch. */
  batch?: number;
}

export interface RoarCurve {
  /** 0 first (unmasked), then the removal fractions. */
  fractions: number[];
  accuracy: number[];
  /** Trapezoid area under accuracy over the fractions (lower = better attribution). */
  auc: number;
  /** random.auc − auc: how much faster than a random ranking accuracy falls (higher = better). */
  aucGainOverRandom: number;
}

export interface RoarResult {
  methods: Record<string, RoarCurve>;
  /** The random-ranking baseline. */
  random: RoarCurve;
  task: 'retrieval' | 'category';
  probe: 'linear' | 'finetune';
  classes: number;
  /** Test items whose label never occurs in training (always counted wrong). */
  unseenTestLabels: number;
}

export const ROAR_DEFAULTS = { fractions: [0.1, 0.3, 0.5, 0.7, 0.9], probe: 'linear', task: 'retrieval', seed: 0, batch: 16 } as const;
/** What `epochs` / `lr` mean, and default to, per probe. */
export const ROAR_PROBE_DEFAULTS = {
  /** Full-batch Adam steps on frozen features. */
  linear: { epochs: 100, lr: 0.05 },
  /** Passes over the masked training images, mini-batches of `batch`; lr of the vision tower. */
  finetune: { epochs: 3, lr: 1e-4 },
} as const;

/** The seeded 80/20 retraining split of the datasets package (by patient when every sample has one). */
export function roarSplit(samples: readonly Sample[], seed: number, by?: SplitBy): { train: Sample[]; test: Sample[] } {
  return split(samples, { seed, trainFraction: 0.8, by: by ?? (samples.every((s) => s.patientId) ? 'patient' : 'image') });
}

/** Per-channel mean of CHW images (the fill value of removed pixels). */
export function channelMeans(images: readonly Float32Array[], channels: number): Float64Array {
  const m = new Float64Array(channels);
  if (images.length === 0) throw new Error('roar: the training split is empty');
  const hw = images[0].length / channels;
  for (const im of images) for (let c = 0; c < channels; c++) for (let i = 0; i < hw; i++) m[c] += im[c * hw + i];
  for (let c = 0; c < channels; c++) m[c] /= hw * images.length;
  return m;
}

/** Replaces the first round(t·H·W) pixels of `order` (all channels) by the channel means. */
export function removeTop(image: Float32Array, order: Int32Array, t: number, fill: Float64Array): Float32Array {
  const c = fill.length;
  const hw = order.length;
  const out = image.slice();
  const k = Math.round(t * hw);
  for (let i = 0; i < k; i++) for (let ch = 0; ch < c; ch++) out[ch * hw + order[i]] = fill[ch];
  return out;
}

function modelFeaturizer(model: ClipModel, batch: number): Featurizer {
  const { imageSize: s, numChannels: c } = model.config.vision;
  return async (images) => {
    const out: Float32Array[] = [];
    for (let i = 0; i < images.length; i += batch) {
      const chunk = images.slice(i, i + batch);
      const flat = new Float32Array(chunk.length * c * s * s);
      chunk.forEach((im, j) => flat.set(im, j * c * s * s));
      const emb = tf.tidy(() => {
        const e = model.encodeImage(tf.tensor4d(flat, [chunk.length, c, s, s]));
        return tf.div(e, tf.maximum(tf.norm(e, 'euclidean', 1, true), 1e-12));
      });
      const data = (await emb.data()) as Float32Array;
      emb.dispose();
      const p = data.length / chunk.length;
      for (let j = 0; j < chunk.length; j++) out.push(data.slice(j * p, (j + 1) * p));
    }
    return out;
  };
}

/**
 * Softmax linear probe: features standardised with the training mean/std, weights
 * N(0, 0.01²) from `seed`, full-batch Adam for `epochs` steps. Returns test accuracy; a test
 * label of −1 (never seen in training) is always wrong.
 */
export function linearProbeAccuracy(trainX: Float32Array[], trainY: number[], testX: Float32Array[], testY: number[], classes: number, opts: { seed: number; epochs: number; lr: number }): number {
  const d = trainX[0].length;
  const mu = new Float32Array(d);
  const sd = new Float32Array(d);
  for (const x of trainX) for (let j = 0; j < d; j++) mu[j] += x[j] / trainX.length;
  for (const x of trainX) for (let j = 0; j < d; j++) sd[j] += (x[j] - mu[j]) ** 2 / trainX.length;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]) || 1;
  const pack = (xs: Float32Array[]) => {
    const flat = new Float32Array(xs.length * d);
    xs.forEach((x, i) => {
      for (let j = 0; j < d; j++) flat[i * d + j] = (x[j] - mu[j]) / sd[j];
    });
    return tf.tensor2d(flat, [xs.length, d]);
  };
  const xTrain = pack(trainX);
  const yTrain = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(trainY, 'int32'), classes), 'float32'));
  // Plain tensors and core's Adam (PyTorch's update): nothing outlives the probe.
  // Seeded on the JS side: tf.randomNormal reads a seed of 0 (the default) as "unseeded".
  let w: tf.Tensor = tf.tensor2d(new Rng(opts.seed).normals(d * classes, 0.01), [d, classes]);
  let b: tf.Tensor = tf.zeros([classes]);
  const adams = [new Adam(w.shape, opts.lr), new Adam(b.shape, opts.lr)];
  const lossOf = (wt: tf.Tensor, bt: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrain, tf.add(tf.matMul(xTrain, wt), bt)) as tf.Scalar;
  try {
    for (let e = 1; e <= opts.epochs; e++) {
      const grads = tf.tidy(() => tf.valueAndGrads(lossOf)([w, b]).grads);
      const next = [adams[0].step(w, grads[0]), adams[1].step(b, grads[1])];
      tf.dispose([w, b, ...grads]);
      [w, b] = next;
    }
    if (testX.length === 0) return NaN;
    const pred = tf.tidy(() => {
      const xTest = pack(testX);
      return tf.argMax(tf.add(tf.matMul(xTest, w), b), 1);
    });
    const p = pred.dataSync();
    pred.dispose();
    let right = 0;
    for (let i = 0; i < testY.length; i++) if (testY[i] >= 0 && p[i] === testY[i]) right++;
    return right / testY.length;
  } finally {
    tf.dispose([xTrain, yTrain, w, b]);
    for (const a of adams) a.dispose();
  }
}

function labelKey(item: RoarItem, index: number, where: string, task: 'retrieval' | 'category'): string {
  if (task === 'category') {
    if (!item.category) throw new Error(`roar: ${where} item ${index} has no category (task "category" needs one per item)`);
    return item.category;
  }
  if (item.caption !== undefined) return `c:${item.caption}`;
  if (item.ids) return `i:${item.ids.join(',')}`;
  throw new Error(`roar: ${where} item ${index} has neither caption nor ids (task "retrieval" needs one)`);
}

export async function runRoar(opts: RoarOptions): Promise<RoarResult> {
  const o = { ...ROAR_DEFAULTS, ...opts };
  const fractions = [...o.fractions];
  const probe = o.probe;
  const task = o.task;
  if (probe !== 'linear' && probe !== 'finetune') throw new Error(`roar: probe must be "linear" or "finetune", got ${String(probe)}`);
  if (task !== 'retrieval' && task !== 'category') throw new Error(`roar: task must be "retrieval" or "category", got ${String(task)}`);
  for (const t of fractions) if (!(t > 0 && t <= 1)) throw new Error(`roar: removal fractions must be in (0, 1], got ${t}`);
  if (fractions.some((t, i) => i > 0 && t <= fractions[i - 1])) throw new Error(`roar: fractions must increase, got ${fractions.join(', ')}`);
  if (o.train.length === 0 || o.test.length === 0) throw new Error(`roar: needs both splits non-empty (train ${o.train.length}, test ${o.test.length})`);
  if ('random' in o.methods) throw new Error('roar: "random" is the name of the built-in baseline; rename the method');
  const epochs = o.epochs || ROAR_PROBE_DEFAULTS[probe].epochs;
  const lr = o.lr || ROAR_PROBE_DEFAULTS[probe].lr;
  if (!(epochs >= 1) || !Number.isInteger(epochs)) throw new Error(`roar: epochs must be a positive integer, got ${epochs}`);
  if (!(lr > 0)) throw new Error(`roar: lr must be positive, got ${lr}`);
  if (!(o.batch >= 1) || !Number.isInteger(o.batch)) throw new Error(`roar: batch must be a positive integer, got ${o.batch}`);
  let featurize: Featurizer | undefined;
  if (probe === 'linear') {
    featurize = o.featurize ?? (o.model ? modelFeaturizer(o.model, o.batch) : undefined);
    if (!featurize) throw new Error('roar: give a model or a featurize function');
  } else {
    if (o.featurize) throw new Error('roar: probe "finetune" retrains the model itself; a featurize function cannot stand in for it (use probe "linear")');
    if (!o.model) throw new Error('roar: probe "finetune" needs the model (its config and, unless `weights` is given, its weights file)');
  }
  const channels = o.channels ?? o.model?.config.vision.numChannels ?? 3;
  const hw = o.train[0].pixels.length / channels;
  const checkItem = (it: RoarItem, i: number, where: string) => {
    if (it.pixels.length !== channels * hw) throw new Error(`roar: ${where} item ${i} has ${it.pixels.length} pixel values, expected ${channels}×${hw}`);
  };
  o.train.forEach((it, i) => checkItem(it, i, 'train'));
  o.test.forEach((it, i) => checkItem(it, i, 'test'));

  // Labels: classes are the distinct training labels; unseen test labels are −1 (wrong).
  const classOf = new Map<string, number>();
  const trainY = o.train.map((it, i) => {
    const k = labelKey(it, i, 'train', task);
    if (!classOf.has(k)) classOf.set(k, classOf.size);
    return classOf.get(k)!;
  });
  const testY = o.test.map((it, i) => classOf.get(labelKey(it, i, 'test', task)) ?? -1);
  const fill = channelMeans(o.train.map((it) => it.pixels), channels);
  const probeOpts = { seed: o.seed, epochs, lr };
  const classes = Math.max(classOf.size, 1);
  // Finetune: every point starts again from the same weights, read once.
  let weights = o.weights;
  if (probe === 'finetune' && !weights) {
    const path = o.model!.source.path;
    try {
      weights = (await readClipWeights(path)).dict;
    } catch (e) {
      throw new Error(`roar: probe "finetune" could not read the model's weights from ${path} (${(e as Error).message}); pass them as \`weights\``);
    }
  }
  const accuracyAt = async (trainImgs: Float32Array[], testImgs: Float32Array[]) =>
    featurize
      ? linearProbeAccuracy(await featurize(trainImgs), trainY, await featurize(testImgs), testY, classes, probeOpts)
      : finetuneAccuracy(weights!, o.model!.config, trainImgs, trainY, testImgs, testY, classes, { ...probeOpts, batch: o.batch });

  const base = await accuracyAt(o.train.map((it) => it.pixels), o.test.map((it) => it.pixels));
  const rng = new Rng(o.seed + 0x9e3779b9);
  const randomMap = () => Float32Array.from({ length: hw }, () => rng.next());
  const rankers: Record<string, RoarMapFn> = { ...o.methods, random: () => randomMap() };
  const curves: Record<string, RoarCurve> = {};
  for (const [name, mapFn] of Object.entries(rankers)) {
    const orders = async (items: RoarItem[], where: 'train' | 'test') => {
      const out: Int32Array[] = [];
      for (let i = 0; i < items.length; i++) {
        const m = await mapFn(items[i], i, where);
        if (m.length !== hw) throw new Error(`roar: method ${name} gave a map of ${m.length} values for ${where} item ${i}, expected ${hw}`);
        out.push(rankDescending(m));
      }
      return out;
    };
    const trainOrders = await orders(o.train, 'train');
    const testOrders = await orders(o.test, 'test');
    const accuracy = [base];
    for (const t of fractions) {
      accuracy.push(
        await accuracyAt(
          o.train.map((it, i) => removeTop(it.pixels, trainOrders[i], t, fill)),
          o.test.map((it, i) => removeTop(it.pixels, testOrders[i], t, fill)),
        ),
      );
    }
    const xs = [0, ...fractions];
    curves[name] = { fractions: xs, accuracy, auc: trapezoid(xs, accuracy), aucGainOverRandom: NaN };
  }
  const { random, ...methods } = curves;
  for (const c of Object.values(curves)) c.aucGainOverRandom = random.auc - c.auc;
  return { methods, random, task, probe, classes: classOf.size, unseenTestLabels: testY.filter((y) => y < 0).length };
}

export const roarMetric: DatasetMetric = {
  kind: 'dataset',
  name: 'roar',
  description: 'Remove and retrain: probe accuracy on the masked test split per removal fraction, and its area (random ranking alongside)',
  higherIsBetter: { auc: false, aucGainOverRandom: true, accuracy: false },
  substrate: 'per-channel mean of the training split (normalised space), both splits',
  params: {
    fractions: { type: 'string', default: '0.1,0.3,0.5,0.7,0.9', description: 'comma-separated removal fractions' },
    probe: {
      type: 'string',
      default: 'linear',
      choices: ['linear', 'finetune'],
      description: 'what is retrained: a linear probe on frozen L2-normalised image embeddings, or (finetune) the vision tower + a linear head end to end from fresh weights',
    },
    task: { type: 'string', default: 'retrieval', choices: ['retrieval', 'category'], description: 'retrieval of the caption among the split\'s captions, or the finding category (MS-CXR)' },
    seed: { type: 'integer', default: 0, description: 'split, probe init and random ranking seed' },
    epochs: { type: 'integer', default: 0, min: 0, description: 'linear: full-batch Adam steps (0 = 100); finetune: epochs of mini-batches of 16 (0 = 3)' },
    lr: { type: 'number', default: 0, min: 0, description: 'Adam learning rate (0 = the probe\'s default: linear 0.05; finetune 1e-4 for the vision tower, 100× for the head)' },
  },
  sides: ['image'],
};
