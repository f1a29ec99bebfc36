// M2IB (Wang, Rudner, Wilson, NeurIPS 2023): a per-pair information bottleneck on the
// output of block `layer` of one tower; the map is the KL ("capacity") per token.
// Number for number with the official code at sigma2 = 1; see spec/m2ib.md.
import * as tf from '@tensorflow/tfjs-core';
import { cosineRows, type PairCache } from '../explain/pair-cache';
import { Adam } from '../optim/adam';

export { ADAM } from '../optim/adam';
import { dropSpecialTokens, minMax, tokenScoresToImageMap } from '../explain/maps';
import type { Attribution, ExplainContext, Explainer, OptionSpec, Side } from '../explain/types';

export interface M2ibOptions {
  /** 0-based block whose output is bottlenecked (HF hidden_states[layer + 1]). */
  layer: number;
  beta: number;
  /** Noise and prior variance; 1 is the official code (which never uses its own argument). */
  sigma2: number;
  steps: number;
  /** Noisy copies per step (the official "batch"). */
  copies: number;
  lr: number;
  seed: number;
  /** Initial alpha (lam = sigmoid(alpha) ≈ 0.9933 at 5). */
  alphaInit: number;
  /**
   * true: blocks 0..layer and the other tower once per pair (exact, fast). false: the whole
   * model every step, as the official code does; only for measuring what the reuse saves.
   */
  reusePrefix: boolean;
}

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

export const M2IB_OPTIONS: Record<keyof M2ibOptions, OptionSpec> = {
  layer: { type: 'integer', default: 9, description: 'block whose output is bottlenecked (0-based; negative counts from the end, −2 = the one before the last)' },
  beta: { type: 'number', default: 0.1, min: 0, description: 'weight of the compression (KL) term' },
  sigma2: { type: 'number', default: 1, min: 1e-12, description: 'variance of the noise and of the prior N(0, sigma2); 1 = the official code' },
  steps: { type: 'integer', default: 10, min: 1, description: 'Adam steps' },
  copies: { type: 'integer', default: 10, min: 1, description: 'noisy copies per step' },
  lr: { type: 'number', default: 1, min: 0, description: 'Adam learning rate' },
  seed: { type: 'integer', default: 0, description: 'seed of the noise' },
  alphaInit: { type: 'number', default: 5, description: 'initial mask logit' },
  reusePrefix: { type: 'boolean', default: true, description: 'compute blocks 0..layer once per pair (false = the official cost, for benchmarks)' },
};

export function m2ibDefaults(): M2ibOptions {
  return Object.fromEntries(Object.entries(M2IB_OPTIONS).map(([k, s]) => [k, s.default])) as unknown as M2ibOptions;
}

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

/**
 * Fits one bottleneck. Returns the per-token capacity of the last forward pass and a trace.
 * The image side bottlenecks the vision tower (text clean), the text side the reverse.
 */
export function fitM2ib(cache: PairCache, side: Side, opts: M2ibOptions, noise?: NoiseSource): M2ibTrace {
  const { model, pair } = cache;
  const tower = side === 'image' ? model.vision : model.text;
  // Negative layers count from the end (−1 = the last block), so one setting fits any depth.
  const layer = opts.layer < 0 ? tower.numLayers + opts.layer : opts.layer;
  if (!Number.isInteger(layer) || layer < 0 || layer >= tower.numLayers) {
    throw new Error(`m2ib: layer ${opts.layer} is outside the ${side} tower's blocks 0…${tower.numLayers - 1} (or −1…−${tower.numLayers} from the end)`);
  }
  if (layer === tower.numLayers - 1) {
    // After the last block only the pooled token reaches the head: the other tokens' masks
    // cannot change the fit, so their "capacity" would only reflect the KL term.
    throw new Error(`m2ib: layer ${opts.layer} is the ${side} tower's last block; only the pooled token reaches the embedding after it, so the map would not explain anything. Choose a block in 0…${tower.numLayers - 2}`);
  }
  opts = { ...opts, layer };
  if (!(opts.sigma2 > 0)) throw new Error(`m2ib: sigma2 must be > 0, got ${opts.sigma2}`);
  const sigma = Math.sqrt(opts.sigma2);
  const eps = noise ?? seededNoise(opts.seed, side);
  const idsB = Array.from({ length: opts.copies }, () => pair.ids);

  // What does not depend on the mask: the bottlenecked state and the other side's embedding.
  const h = cache.stateAfter(side, opts.layer); // [1, L, D]
  const [, L, D] = h.shape;
  const hScaled = tf.div(h, sigma);
  const other = cache.otherEmbedding(side);

  const restOfTower = (z: tf.Tensor3D): tf.Tensor2D => {
    const out = tower.runBlocks(z, opts.layer + 1).h;
    return side === 'image' ? model.vision.head(out) : model.text.head(out, idsB);
  };
  // The official cost: embed and blocks 0..layer, and the other tower, inside every step.
  const fullPrefix = (): { h: tf.Tensor3D; other: tf.Tensor2D } => {
    if (side === 'image') {
      const hh = model.vision.runBlocks(model.vision.embed(pair.pixels), 0, opts.layer + 1).h;
      return { h: hh, other: model.text.head(model.text.runBlocks(model.text.embed([pair.ids])).h, [pair.ids]) };
    }
    const hh = model.text.runBlocks(model.text.embed([pair.ids]), 0, opts.layer + 1).h;
    return { h: hh, other: model.vision.head(model.vision.runBlocks(model.vision.embed(pair.pixels)).h) };
  };

  let alpha: tf.Tensor = tf.fill([1, L, D], opts.alphaInit);
  const adam = new Adam([1, L, D], opts.lr);
  const trace: M2ibTrace = { loss: [], fit: [], compression: [], alphaFinal: new Float32Array(), klLast: new Float32Array(), capacity: new Float32Array() };
  try {
    for (let step = 0; step < opts.steps; step++) {
      const e = eps(step, [opts.copies, L, D]);
      if (e.shape[0] !== opts.copies || e.shape[1] !== L || e.shape[2] !== D) {
        throw new Error(`m2ib: noise for step ${step} has shape [${e.shape}], expected [${opts.copies}, ${L}, ${D}]`);
      }
      let fitValue = NaN;
      let compressionValue = NaN;
      const { value, grads } = tf.tidy(() => {
        const prefix = opts.reusePrefix ? { h, other } : fullPrefix();
        const hs = opts.reusePrefix ? hScaled : tf.div(prefix.h, sigma);
        return tf.valueAndGrads((a: tf.Tensor) => {
          const lam = tf.sigmoid(a);
          // z = lam·h + (1 − lam)·σ·ε: the noise has the prior's variance.
          const z = tf.add(tf.mul(prefix.h, lam), tf.mul(tf.mul(tf.sub(1, lam), sigma), e)) as tf.Tensor3D;
          const fit = tf.mean(cosineRows(restOfTower(z), prefix.other, 1e-6));
          fitValue = fit.dataSync()[0];
          // KL does not depend on ε, so its mean over (copies, L, D) is its mean over (L, D).
          const kl = klDivergence(a, hs);
          const compression = tf.mean(kl);
          compressionValue = compression.dataSync()[0];
          // The readout is the KL of the last forward pass, before the last update.
          if (step === opts.steps - 1) trace.klLast = (kl.dataSync() as Float32Array).slice();
          return tf.sub(tf.mul(compression, opts.beta), fit) as tf.Scalar;
        })([alpha]);
      });
      e.dispose();
      trace.loss.push(value.dataSync()[0]);
      trace.fit.push(fitValue);
      trace.compression.push(compressionValue);
      const next = adam.step(alpha, grads[0]);
      tf.dispose([value, ...grads, alpha]);
      alpha = next;
    }
    trace.alphaFinal = (alpha.dataSync() as Float32Array).slice();
  } finally {
    tf.dispose([alpha, hScaled]);
    adam.dispose();
  }
  const capacity = new Float32Array(L);
  for (let l = 0; l < L; l++) {
    let s = 0;
    for (let d = 0; d < D; d++) {
      const v = trace.klLast[l * D + d];
      if (!Number.isNaN(v)) s += v; // nansum, as the official readout
    }
    capacity[l] = s;
  }
  trace.capacity = capacity;
  return trace;
}

/** Capacity per token → the attribution of one side (spec: drop CLS / min-max / BOS-EOS rules). */
export function m2ibReadout(capacity: Float32Array, side: Side, imageSize: number): { scores: Float32Array; shape: number[]; flat: boolean } {
  if (side === 'image') {
    const { map, flat } = tokenScoresToImageMap(capacity, imageSize);
    return { scores: map, shape: [imageSize, imageSize], flat };
  }
  // Min-max over every token including BOS/EOS, then drop them for display and evaluation.
  const { map, flat } = minMax(capacity, 'text capacity');
  const scores = dropSpecialTokens(map);
  return { scores, shape: [scores.length], flat };
}

export const m2ib: Explainer<M2ibOptions> & {
  explainWithNoise(ctx: ExplainContext, side: Side, options: Partial<M2ibOptions>, noise?: NoiseSource): Promise<Attribution & { trace: M2ibTrace }>;
} = {
  name: 'm2ib',
  description: 'Multi-modal information bottleneck (Wang et al., NeurIPS 2023)',
  sides: ['image', 'text'],
  options: M2IB_OPTIONS,
  async explain(ctx, side, options = {}) {
    const { trace, ...attribution } = await this.explainWithNoise(ctx, side, options);
    void trace;
    return attribution;
  },
  async explainWithNoise(ctx, side, options, noise) {
    const opts = { ...m2ibDefaults(), ...options };
    const t0 = performance.now();
    const trace = fitM2ib(ctx.cache, side, opts, noise);
    const { scores, shape, flat } = m2ibReadout(trace.capacity, side, ctx.model.config.vision.imageSize);
    return {
      method: 'm2ib',
      side,
      scores,
      shape,
      flat,
      ms: performance.now() - t0,
      extra: { capacity: Array.from(trace.capacity), sigma2: opts.sigma2, layer: opts.layer, beta: opts.beta },
      trace,
    };
  },
};
