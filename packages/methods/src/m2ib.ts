// M2IB (Wang, Rudner, Wilson, NeurIPS 2023): a per-pair information bottleneck on the
// output of block `layer` of one tower; the map is the KL ("capacity") per token.
// Number for number with the official code at sigma2 = 1; see docs/methods.md.
import * as tf from '@tensorflow/tfjs-core';
import {
  Adam,
  cosineRows,
  defineTask,
  splitRuns,
  type ExplainContext,
  type OptionSpec,
  type OptionsOf,
  type PairCache,
  type WorkerPool,
} from '@ceb/core';
import type { Side } from '@ceb/types';
import { defineExplainer, imageMapFromTokens, type MapResult, type SideResult } from './common';
import { nansumRows, textMapOverAllTokens } from './readouts';

export { ADAM } from '@ceb/core';

/** Gives ε for step `step` with the given shape [copies, L, D], N(0, 1). Tests replay fixtures through this. */
export type NoiseSource = (step: number, shape: [number, number, number]) => tf.Tensor3D;

export interface M2ibTrace {
  loss: number[];
  fit: number[];
  compression: number[];
  /** Alpha after all updates [L·D] (not used by the readout). */
  alphaFinal: Float32Array;
  /** KL of the last forward [L·D]. */
  klLast: Float32Array;
  /** Sum over D of klLast, per token [L] (image: CLS first; text: BOS … EOS). */
  capacity: Float32Array;
}

export const M2IB_OPTIONS = {
  layer: {
    type: 'integer',
    default: 9,
    layer: { of: 'output', refuseLast: { blocks: 1, why: 'only the pooled token reaches the embedding after it, so the map would not explain anything' } },
    description: 'block whose output is bottlenecked (0-based; negative counts from the end, −2 = the one before the last; not the last block)',
  },
  beta: { type: 'number', default: 0.1, min: 0, description: 'weight of the compression (KL) term' },
  sigma2: { type: 'number', default: 1, min: 1e-12, description: 'variance of the noise and of the prior N(0, sigma2); 1 = the official code' },
  steps: { type: 'integer', default: 10, min: 1, description: 'Adam steps' },
  copies: { type: 'integer', default: 10, min: 1, description: 'noisy copies per step' },
  lr: { type: 'number', default: 1, min: 0, description: 'Adam learning rate' },
  seed: { type: 'integer', default: 0, description: 'seed of the noise' },
  alphaInit: { type: 'number', default: 5, description: 'initial mask logit' },
  reusePrefix: { type: 'boolean', default: true, description: 'compute blocks 0..layer once per pair (false = the official cost, for benchmarks)' },
} satisfies Record<string, OptionSpec>;

export type M2ibOptions = OptionsOf<typeof M2IB_OPTIONS>;

/**
 * Seeded N(0, 1) noise, a different stream per side and step. The stream seed is never 0:
 * tfjs reads a seed of 0 as "no seed" and would draw from Math.random.
 */
export function seededNoise(seed: number, side: Side): NoiseSource {
  return (step, shape) => tf.randomNormal(shape, 0, 1, 'float32', seed * 7919 + step * 2 + (side === 'image' ? 0 : 1) + 1);
}

/**
 * KL( N(lam·h, ((1−lam)σ)²) ‖ N(0, σ²) ) elementwise, written on h/σ:
 * −½(1 + log(1−lam)² − (lam·h/σ)² − (1−lam)²), with log(1−lam)² = −2·softplus(alpha).
 */
function klDivergence(alpha: tf.Tensor, hScaled: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const lam = tf.sigmoid(alpha);
    const mu = tf.mul(hScaled, lam);
    const oneMinus = tf.sub(1, lam);
    const logVar = tf.mul(tf.softplus(alpha), -2);
    return tf.mul(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.square(oneMinus)), -0.5);
  });
}

/** What one fit needs and the steps share: the bottlenecked state, the other side, the rest of the tower. */
interface Bottleneck {
  /** Returns the bottlenecked state h [1, L, D] and the other side's clean embedding, per step. */
  prefix(): { h: tf.Tensor3D; other: tf.Tensor2D };
  /** z [copies, L, D] entering block layer+1 → the explained side's embeddings [copies, P]. */
  rest(z: tf.Tensor3D): tf.Tensor2D;
}

/** `layer` must already be resolved to a block index (the template does it). */
function bottleneck(cache: PairCache, side: Side, opts: Pick<M2ibOptions, 'layer' | 'copies' | 'reusePrefix'>): Bottleneck {
  const { model, pair } = cache;
  const tower = side === 'image' ? model.vision : model.text;
  const idsB = Array.from({ length: opts.copies }, () => pair.ids);
  const rest = (z: tf.Tensor3D): tf.Tensor2D => {
    const out = tower.runBlocks(z, opts.layer + 1).h;
    return side === 'image' ? model.vision.head(out) : model.text.head(out, idsB);
  };
  if (opts.reusePrefix) {
    // What does not depend on the mask, computed once per pair.
    const fixed = { h: cache.stateAfter(side, opts.layer), other: cache.otherEmbedding(side) };
    return { prefix: () => fixed, rest };
  }
  // The official cost: embed and blocks 0..layer, and the other tower, inside every step.
  const prefix = () => {
    if (side === 'image') {
      const h = model.vision.runBlocks(model.vision.embed(pair.pixels), 0, opts.layer + 1).h;
      return { h, other: model.text.head(model.text.runBlocks(model.text.embed([pair.ids])).h, [pair.ids]) };
    }
    const h = model.text.runBlocks(model.text.embed([pair.ids]), 0, opts.layer + 1).h;
    return { h, other: model.vision.head(model.vision.runBlocks(model.vision.embed(pair.pixels)).h) };
  };
  return { prefix, rest };
}

/** z = lam·h + (1 − lam)·σ·ε, lam = sigmoid(alpha): the noise has the prior's variance. */
function noisyState(h: tf.Tensor, alpha: tf.Tensor, sigma: number, e: tf.Tensor): tf.Tensor3D {
  const lam = tf.sigmoid(alpha);
  return tf.add(tf.mul(h, lam), tf.mul(tf.mul(tf.sub(1, lam), sigma), e)) as tf.Tensor3D;
}

/** The fit term of one step: the mean over the copies of cos(embedding of the noisy state, other side), and its gradient w.r.t. the mask logits. */
type FitTerm = (alpha: tf.Tensor, e: tf.Tensor3D) => Promise<{ value: number; grad: tf.Tensor }>;

/** The fit term on this thread, all copies in one batch. */
function localFit(cache: PairCache, side: Side, opts: M2ibOptions, sigma: number): FitTerm {
  const net = bottleneck(cache, side, opts);
  return async (alpha, e) => {
    const { value, grad } = tf.tidy(() => {
      const { h, other } = net.prefix();
      return tf.valueAndGrad((a: tf.Tensor) => tf.mean(cosineRows(net.rest(noisyState(h, a, sigma, e)), other, 1e-6)) as tf.Scalar)(alpha);
    });
    const v = value.dataSync()[0];
    value.dispose();
    return { value: v, grad };
  };
}

/**
 * The fit term with the copies shared out over the pool: each thread gets its slice of this
 * step's noise (drawn here from the seed exactly as one thread draws it) and the mask logits;
 * the exact mean comes back. Same seed → the same map as one thread up to the order of the
 * sum over copies (test/pool.test.ts states the tolerance).
 */
function pooledFit(cache: PairCache, pool: WorkerPool, side: Side, opts: M2ibOptions, sigma: number): FitTerm {
  const [, L, D] = cache.stateAfter(side, opts.layer).shape;
  const runs = splitRuns(opts.copies, pool.threads);
  return async (alpha, e) => {
    const all = e.dataSync() as Float32Array;
    const a = (alpha.dataSync() as Float32Array).slice();
    const inputs = runs.map(([first, n]) => ({ side, layer: opts.layer, reusePrefix: opts.reusePrefix, sigma, copies: n, alpha: a, eps: all.slice(first * L * D, (first + n) * L * D), shape: [L, D] as [number, number] }));
    const fit = sumShares(await pool.map(cache, m2ibPartialStep, inputs), L * D, opts.copies);
    return { value: fit.value, grad: tf.tensor3d(fit.grad, [1, L, D]) };
  };
}

/**
 * Fits one bottleneck: Adam on β·mean(KL) − fit, the fit term from `fitTerm` (this thread or
 * the pool). Returns the per-token capacity of the last forward pass and a trace. The image
 * side bottlenecks the vision tower (text clean), the text side the reverse. `opts.layer` is a
 * resolved block index.
 */
export async function fitM2ib(cache: PairCache, side: Side, opts: M2ibOptions, pool?: WorkerPool, noise?: NoiseSource): Promise<M2ibTrace> {
  if (!(opts.sigma2 > 0)) throw new Error(`m2ib: sigma2 must be > 0, got ${opts.sigma2}`);
  const sigma = Math.sqrt(opts.sigma2);
  const eps = noise ?? seededNoise(opts.seed, side);
  const fitTerm = pool ? pooledFit(cache, pool, side, opts, sigma) : localFit(cache, side, opts, sigma);
  const state = cache.stateAfter(side, opts.layer);
  const [, L, D] = state.shape;
  // The KL term's h/σ does not depend on the mask: once per fit.
  const hs = tf.tidy(() => tf.div(state, sigma));
  let alpha: tf.Tensor = tf.fill([1, L, D], opts.alphaInit);
  const adam = new Adam([1, L, D], opts.lr);
  const trace: M2ibTrace = { loss: [], fit: [], compression: [], alphaFinal: new Float32Array(), klLast: new Float32Array(), capacity: new Float32Array() };
  try {
    for (let step = 0; step < opts.steps; step++) {
      const e = eps(step, [opts.copies, L, D]);
      let fit: { value: number; grad: tf.Tensor };
      try {
        if (e.shape[0] !== opts.copies || e.shape[1] !== L || e.shape[2] !== D) {
          throw new Error(`m2ib: noise for step ${step} has shape [${e.shape}], expected [${opts.copies}, ${L}, ${D}]`);
        }
        fit = await fitTerm(alpha, e);
      } finally {
        e.dispose();
      }
      // The readout is the KL of the last forward pass, before the last update.
      const c = compressionStep(alpha, hs, opts.beta, step === opts.steps - 1);
      if (c.kl) trace.klLast = c.kl;
      trace.loss.push(opts.beta * c.compression - fit.value);
      trace.fit.push(fit.value);
      trace.compression.push(c.compression);
      const grad = tf.tidy(() => tf.sub(c.grad, fit.grad));
      const next = adam.step(alpha, grad);
      tf.dispose([grad, c.grad, fit.grad, alpha]);
      alpha = next;
    }
    trace.alphaFinal = (alpha.dataSync() as Float32Array).slice();
  } finally {
    tf.dispose([alpha, hs]);
    adam.dispose();
  }
  trace.capacity = Float32Array.from(nansumRows(trace.klLast, L, D));
  return trace;
}

/** One thread's share of a step: its copies of the noise and the mask logits of this step. */
interface PartialInput {
  side: Side;
  layer: number;
  reusePrefix: boolean;
  sigma: number;
  copies: number;
  /** Mask logits [L·D] and this share's noise [copies·L·D]. */
  alpha: Float32Array;
  eps: Float32Array;
  shape: [number, number];
}

/**
 * The fit term of a share: Σ over its copies of cos(embedding of the noisy state, other side),
 * and its gradient w.r.t. the mask logits. The shares' sums over all copies ÷ copies are the
 * fit term and gradient of the whole step (only the order of the sum over copies changes).
 */
export const m2ibPartialStep = defineTask(import.meta.url, 'm2ibPartialStep', (ctx, i: PartialInput) => {
  const net = bottleneck(ctx.cache, i.side, { layer: i.layer, copies: i.copies, reusePrefix: i.reusePrefix });
  const [L, D] = i.shape;
  const { value, grad } = tf.tidy(() => {
    const { h, other } = net.prefix();
    const e = tf.tensor3d(i.eps, [i.copies, L, D]);
    return tf.valueAndGrad((a: tf.Tensor) => tf.sum(cosineRows(net.rest(noisyState(h, a, i.sigma, e)), other, 1e-6)) as tf.Scalar)(tf.tensor3d(i.alpha, [1, L, D]));
  });
  const fitSum = value.dataSync()[0];
  const g = (grad.dataSync() as Float32Array).slice();
  tf.dispose([value, grad]);
  return { fitSum, grad: g };
});

/** The compression term β·mean(KL) of the mask, its gradient, and (for the readout) the KL itself. */
function compressionStep(alpha: tf.Tensor, hs: tf.Tensor, beta: number, keepKl: boolean) {
  let kl: Float32Array | undefined;
  const { value, grad } = tf.tidy(() =>
    tf.valueAndGrad((a: tf.Tensor) => {
      const k = klDivergence(a, hs);
      if (keepKl) kl = (k.dataSync() as Float32Array).slice();
      return tf.mean(k) as tf.Scalar;
    })(alpha),
  );
  const compression = value.dataSync()[0];
  const scaled = tf.tidy(() => tf.mul(grad, beta));
  tf.dispose([value, grad]);
  return { compression, grad: scaled, kl };
}

/** The mean over all copies of the shares' sums (fit value and gradient), summed in share order in float64. */
function sumShares(parts: { fitSum: number; grad: Float32Array }[], size: number, copies: number): { value: number; grad: Float32Array } {
  const acc = new Float64Array(size);
  let value = 0;
  for (const p of parts) {
    value += p.fitSum;
    for (let j = 0; j < size; j++) acc[j] += p.grad[j];
  }
  return { value: value / copies, grad: Float32Array.from(acc, (v) => v / copies) };
}

/** Capacity per token → the map of one side (drop CLS / min-max; text: min-max over BOS … EOS, then drop them). */
export function m2ibReadout(capacity: Float32Array, side: Side, imageSize: number): MapResult {
  return side === 'image' ? imageMapFromTokens(capacity, imageSize) : textMapOverAllTokens(capacity);
}

function m2ibSide(side: Side, noise: NoiseSource | undefined, keepTrace: boolean) {
  return async (ctx: ExplainContext, o: M2ibOptions): Promise<SideResult> => {
    // One thread: all copies here. A pool: the copies shared out.
    const trace = await fitM2ib(ctx.cache, side, o, ctx.pool && ctx.pool.threads > 1 ? ctx.pool : undefined, noise);
    const extra: Record<string, unknown> = { capacity: Array.from(trace.capacity), sigma2: o.sigma2, layer: o.layer, beta: o.beta };
    if (keepTrace) extra.trace = trace;
    return { map: m2ibReadout(trace.capacity, side, ctx.model.config.vision.imageSize), extra };
  };
}

/**
 * An M2IB explainer; with `noise`, ε comes from it instead of the seed (tests replay the
 * fixture's noise), and `extra.trace` holds the fit's trace.
 */
export function m2ibWithNoise(noise?: NoiseSource, opts: { trace?: boolean } = {}) {
  const keepTrace = opts.trace ?? noise !== undefined;
  return defineExplainer<M2ibOptions>({
    name: 'm2ib',
    description: 'Multi-modal information bottleneck (Wang et al., NeurIPS 2023)',
    note: 'sigma2 ≠ 1 means noise and prior N(0, sigma2); the official code always uses 1',
    options: M2IB_OPTIONS,
    image: m2ibSide('image', noise, keepTrace),
    text: m2ibSide('text', noise, keepTrace),
  });
}

export const m2ib = m2ibWithNoise();
