// ROAR — remove and retrain (Hooker et al., NeurIPS 2019). For each fraction t: the top-t
// pixels of every image (by the method's map) become the per-channel mean of the TRAINING
// split (normalised space), in both splits; a probe is retrained on the masked training
// split and measured on the masked test split. A random ranking is always run alongside.
// A faster drop (lower area under accuracy-vs-fraction) is a better attribution.
import * as tf from '@tensorflow/tfjs-core';
import { Adam, readClipWeights, type ClipModel, type F32Dict, type PairInput } from '@ceb/core';
import { split, type Sample, type SplitBy } from '@ceb/datasets';
import { Rng } from '@ceb/random';
import { finetuneAccuracy, indices, miniBatches, normalisedEmbedding, packImages } from './finetune';
import { rankDescending, trapezoid } from './perturb';
import { parseNumberList, type DatasetMetric, type DatasetMetricContext, type DatasetUnit } from './types';

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
  return async (images) => {
    const out: Float32Array[] = [];
    for (const idx of miniBatches(indices(images.length), batch)) {
      const emb = tf.tidy(() => normalisedEmbedding(model, packImages(images, idx, model.config.vision)));
      const data = (await emb.data()) as Float32Array;
      emb.dispose();
      const p = data.length / idx.length;
      for (let j = 0; j < idx.length; j++) out.push(data.slice(j * p, (j + 1) * p));
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

/** The options with defaults filled and checked; names the option and the bad value. */
function checkedRoarOptions(opts: RoarOptions) {
  const o = { ...ROAR_DEFAULTS, ...opts };
  const fractions = [...o.fractions];
  const { probe, task } = o;
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
  if (probe === 'linear' && !o.featurize && !o.model) throw new Error('roar: give a model or a featurize function');
  if (probe === 'finetune' && o.featurize) throw new Error('roar: probe "finetune" retrains the model itself; a featurize function cannot stand in for it (use probe "linear")');
  if (probe === 'finetune' && !o.model) throw new Error('roar: probe "finetune" needs the model (its config and, unless `weights` is given, its weights file)');
  const channels = o.channels ?? o.model?.config.vision.numChannels ?? 3;
  const hw = o.train[0].pixels.length / channels;
  const checkItem = (it: RoarItem, i: number, where: string) => {
    if (it.pixels.length !== channels * hw) throw new Error(`roar: ${where} item ${i} has ${it.pixels.length} pixel values, expected ${channels}×${hw}`);
  };
  o.train.forEach((it, i) => checkItem(it, i, 'train'));
  o.test.forEach((it, i) => checkItem(it, i, 'test'));
  return { ...o, fractions, epochs, lr, channels, hw };
}

/** Labels: classes are the distinct training labels; unseen test labels are −1 (always wrong). */
function roarLabels(train: RoarItem[], test: RoarItem[], task: 'retrieval' | 'category') {
  const classOf = new Map<string, number>();
  const trainY = train.map((it, i) => {
    const k = labelKey(it, i, 'train', task);
    if (!classOf.has(k)) classOf.set(k, classOf.size);
    return classOf.get(k)!;
  });
  const testY = test.map((it, i) => classOf.get(labelKey(it, i, 'test', task)) ?? -1);
  return { trainY, testY, classes: classOf.size };
}

type AccuracyAt = (trainImgs: Float32Array[], testImgs: Float32Array[]) => Promise<number>;

/** Retrains the chosen probe on (masked) training images and measures it on (masked) test images. */
async function accuracyFunction(o: ReturnType<typeof checkedRoarOptions>, labels: ReturnType<typeof roarLabels>): Promise<AccuracyAt> {
  const { trainY, testY } = labels;
  const probeOpts = { seed: o.seed, epochs: o.epochs, lr: o.lr };
  const classes = Math.max(labels.classes, 1);
  if (o.probe === 'linear') {
    const featurize = o.featurize ?? modelFeaturizer(o.model!, o.batch);
    return async (trainImgs, testImgs) => linearProbeAccuracy(await featurize(trainImgs), trainY, await featurize(testImgs), testY, classes, probeOpts);
  }
  // Finetune: every point starts again from the same weights, read once.
  let weights = o.weights;
  if (!weights) {
    const path = o.model!.source.path;
    try {
      weights = (await readClipWeights(path)).dict;
    } catch (e) {
      throw new Error(`roar: probe "finetune" could not read the model's weights from ${path} (${(e as Error).message}); pass them as \`weights\``);
    }
  }
  const w = weights;
  return async (trainImgs, testImgs) => finetuneAccuracy(w, o.model!.config, trainImgs, trainY, testImgs, testY, classes, { ...probeOpts, batch: o.batch });
}

export async function runRoar(opts: RoarOptions): Promise<RoarResult> {
  const o = checkedRoarOptions(opts);
  const labels = roarLabels(o.train, o.test, o.task);
  const accuracyAt = await accuracyFunction(o, labels);
  const fill = channelMeans(o.train.map((it) => it.pixels), o.channels);
  const base = await accuracyAt(o.train.map((it) => it.pixels), o.test.map((it) => it.pixels));
  const rng = new Rng(o.seed + 0x9e3779b9);
  const randomMap = () => Float32Array.from({ length: o.hw }, () => rng.next());
  const rankers: Record<string, RoarMapFn> = { ...o.methods, random: () => randomMap() };
  const curves: Record<string, RoarCurve> = {};
  for (const [name, mapFn] of Object.entries(rankers)) {
    const orders = async (items: RoarItem[], where: 'train' | 'test') => {
      const out: Int32Array[] = [];
      for (let i = 0; i < items.length; i++) {
        const m = await mapFn(items[i], i, where);
        if (m.length !== o.hw) throw new Error(`roar: method ${name} gave a map of ${m.length} values for ${where} item ${i}, expected ${o.hw}`);
        out.push(rankDescending(m));
      }
      return out;
    };
    const trainOrders = await orders(o.train, 'train');
    const testOrders = await orders(o.test, 'test');
    const accuracy = [base];
    for (const t of o.fractions) {
      accuracy.push(
        await accuracyAt(
          o.train.map((it, i) => removeTop(it.pixels, trainOrders[i], t, fill)),
          o.test.map((it, i) => removeTop(it.pixels, testOrders[i], t, fill)),
        ),
      );
    }
    const xs = [0, ...o.fractions];
    curves[name] = { fractions: xs, accuracy, auc: trapezoid(xs, accuracy), aucGainOverRandom: NaN };
  }
  const { random, ...methods } = curves;
  for (const c of Object.values(curves)) c.aucGainOverRandom = random.auc - c.auc;
  return { methods, random, task: o.task, probe: o.probe, classes: labels.classes, unseenTestLabels: labels.testY.filter((y) => y < 0).length };
}

/** The run's samples as ROAR items (pixels read back), with their pairs for re-explaining; unloadable samples are left out. */
async function loadRoarItems(ctx: DatasetMetricContext, list: readonly Sample[]) {
  const out: { item: RoarItem; sample: Sample; pair: PairInput }[] = [];
  for (const sample of list) {
    const pair = await ctx.loadPair(sample);
    if (!pair) continue;
    out.push({ item: { pixels: pair.pixels.dataSync().slice() as Float32Array, caption: sample.caption, ids: pair.ids, category: sample.category }, sample, pair });
  }
  return out;
}

/** ROAR over the run: one retraining per fraction per unit, and the random ranking once. */
async function runRoarMetric(ctx: DatasetMetricContext): Promise<void> {
  const p = ctx.params;
  const seed = Number(p.seed);
  const { train, test } = roarSplit(ctx.samples, seed);
  ctx.log(`ROAR: ${train.length} train / ${test.length} test images, ${ctx.units.length} method settings + a random ranking`);
  const t0 = performance.now();
  const trainItems = await loadRoarItems(ctx, train);
  const testItems = await loadRoarItems(ctx, test);
  const all = [...trainItems, ...testItems];
  const bySample = new Map(all.map((x) => [x.item, x]));
  const keyOf = (u: DatasetUnit) => `${u.method}@${u.point}`;
  const methods = Object.fromEntries(
    ctx.units.map((u) => [keyOf(u), (item: RoarItem) => ctx.mapOf(u, bySample.get(item)!.sample, bySample.get(item)!.pair)] as const),
  );
  // Unless the config says, sets with a finding category for every sample (MS-CXR) use the category task.
  const task = p.task === 'auto' ? (ctx.samples.every((s) => s.category) ? 'category' : 'retrieval') : (p.task as 'retrieval' | 'category');
  try {
    const r = await runRoar({
      model: ctx.model,
      train: trainItems.map((x) => x.item),
      test: testItems.map((x) => x.item),
      methods,
      fractions: parseNumberList(String(p.fractions), 'metrics.roar.fractions'),
      probe: p.probe as 'linear' | 'finetune',
      task,
      seed,
      epochs: Number(p.epochs),
      lr: Number(p.lr),
    });
    const ms = performance.now() - t0;
    for (const u of ctx.units) {
      const c = r.methods[keyOf(u)];
      ctx.record(u, { values: { auc: c.auc, aucGainOverRandom: c.aucGainOverRandom }, curve: { x: c.fractions, y: c.accuracy, baseline: r.random.accuracy }, n: testItems.length, ms });
    }
  } catch (e) {
    ctx.fail(undefined, (e as Error).message);
  } finally {
    for (const x of all) x.pair.pixels.dispose();
  }
}

export const roarMetric: DatasetMetric = {
  kind: 'dataset',
  name: 'roar',
  description: 'Remove and retrain: probe accuracy on the masked test split per removal fraction, and its area (random ranking alongside)',
  category: 'faithfulness',
  higherIsBetter: { auc: false, aucGainOverRandom: true, accuracy: false },
  substrate: 'per-channel mean of the training split (normalised space), both splits',
  keepsMaps: ['image'],
  curve: { x: 'fraction removed', y: 'accuracy', baseline: 'random ranking', note: 'accuracy after removing the top fraction and retraining; a faster drop is better; dashed: random ranking' },
  params: {
    fractions: { type: 'string', default: '0.1,0.3,0.5,0.7,0.9', description: 'comma-separated removal fractions' },
    probe: {
      type: 'string',
      default: 'linear',
      choices: ['linear', 'finetune'],
      description: 'what is retrained: a linear probe on frozen L2-normalised image embeddings, or (finetune) the vision tower + a linear head end to end from fresh weights',
    },
    task: {
      type: 'string',
      default: 'auto',
      choices: ['auto', 'retrieval', 'category'],
      description: "retrieval of the caption among the split's captions, or the finding category (MS-CXR); auto = category when every sample has one, else retrieval",
    },
    seed: { type: 'integer', default: 0, description: "split, probe init and random ranking seed (default: the run's seed)" },
    epochs: { type: 'integer', default: 0, min: 0, description: 'linear: full-batch Adam steps (0 = 100); finetune: epochs of mini-batches of 16 (0 = 3)' },
    lr: { type: 'number', default: 0, min: 0, description: 'Adam learning rate (0 = the probe\'s default: linear 0.05; finetune 1e-4 for the vision tower, 100× for the head)' },
  },
  sides: ['image'],
  run: runRoarMetric,
};
