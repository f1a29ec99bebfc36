// Integrated Gradients (Sundararajan, Taly & Yan, ICML 2017): for the target F, an input x and a
// baseline x', IG = (x − x') ⊙ ∫₀¹ ∇F(x' + α(x − x')) dα, approximated by a Riemann sum over the
// straight path (the paper's: right points α = k/m, k = 1…m). At the input pixels (image) or the
// token embeddings before positions (text), or at the hidden state entering a block. Completeness,
// Σ IG = F(x) − F(x'), holds for the integral; the sum approaches it as `steps` grows.
import * as tf from '@tensorflow/tfjs-core';
import { targetOfPixels, targetOfState, targetOfTokenEmbeddings, type ExplainContext, type OptionSpec, type OptionsOf } from '@ceb/core';
import type { Side } from '@ceb/types';
import { defineExplainer, imageMapFromPixels, imageMapFromTokens, take, textMapFromTokens, type MapResult, type SideResult } from './common';

export const IG_RULES = ['right', 'left', 'midpoint', 'trapezoid'] as const;
export type IgRule = (typeof IG_RULES)[number];

export const IG_OPTIONS = {
  at: {
    type: 'string',
    default: 'input',
    choices: ['input', 'layer'],
    description: 'where the path runs: input = the pixels (image) / the token embeddings before positions (text); layer = the hidden state entering block `layer`',
  },
  layer: {
    type: 'integer',
    default: 0,
    layer: { of: 'input' },
    description: 'with at = layer: the INPUT of this block (HF hidden_states[layer]; 0 = the encoder input; negative from the end)',
  },
  baseline: { type: 'string', default: 'zero', choices: ['zero', 'blur'], description: 'x′: zero (in normalised pixel space: the mean colour; the zero state) or blur (a Gaussian blur of the image; pixels only)' },
  blurSigma: { type: 'number', default: 5, min: 0.1, description: 'σ in pixels of the blurred baseline (kernel 2·⌈3σ⌉+1, mirrored borders)' },
  steps: { type: 'integer', default: 50, min: 1, description: 'points on the path (the paper: 20–300 suffice for 5%)' },
  rule: {
    type: 'string',
    default: 'right',
    choices: IG_RULES,
    description: 'Riemann rule: right (α = k/m, k = 1…m, the paper’s), left (k = 0…m−1), midpoint ((k−½)/m), trapezoid (k = 0…m, m+1 gradients)',
  },
  readout: { type: 'string', default: 'sum', choices: ['sum', 'abs'], description: 'per pixel / token: sum = Σ over channels (signed; completeness per pixel or token), abs = Σ |·|' },
  batchSize: { type: 'integer', default: 10, min: 1, description: 'path points per backward pass' },
} satisfies Record<string, OptionSpec>;

export type IgOptions = OptionsOf<typeof IG_OPTIONS>;

/** The path points α and their weights (Σ weights = 1) of a Riemann rule with `steps` intervals. */
export function riemannPoints(steps: number, rule: IgRule): { alphas: number[]; weights: number[] } {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`integrated gradients: steps must be a positive integer, got ${steps}`);
  const m = steps;
  switch (rule) {
    case 'right':
      return { alphas: Array.from({ length: m }, (_, k) => (k + 1) / m), weights: Array(m).fill(1 / m) };
    case 'left':
      return { alphas: Array.from({ length: m }, (_, k) => k / m), weights: Array(m).fill(1 / m) };
    case 'midpoint':
      return { alphas: Array.from({ length: m }, (_, k) => (k + 0.5) / m), weights: Array(m).fill(1 / m) };
    case 'trapezoid':
      return { alphas: Array.from({ length: m + 1 }, (_, k) => k / m), weights: Array.from({ length: m + 1 }, (_, k) => (k === 0 || k === m ? 0.5 : 1) / m) };
  }
}

/** F of a batch of points [b, …x's shape without its batch axis of 1] → [b] (differentiable). */
export type PathTarget = (points: tf.Tensor) => tf.Tensor1D;

/**
 * (x − x') ⊙ Σ_k w_k ∇F(x' + α_k (x − x')), x and x' of shape [1, …]; the points go through F
 * `batchSize` at a time. Returns the attribution with x's shape, flattened.
 */
export function integratedGradients(x: tf.Tensor, baseline: tf.Tensor, f: PathTarget, o: { steps: number; rule: IgRule; batchSize: number }): Float32Array {
  if (x.shape[0] !== 1 || baseline.shape.join() !== x.shape.join()) throw new Error(`integrated gradients: x [${x.shape}] and baseline [${baseline.shape}] must be one point of the same shape`);
  const { alphas, weights } = riemannPoints(o.steps, o.rule);
  const rest = x.shape.slice(1);
  const ones = rest.map(() => 1);
  let acc: tf.Tensor = tf.zeros(rest);
  for (let i = 0; i < alphas.length; i += o.batchSize) {
    const a = alphas.slice(i, i + o.batchSize);
    const next = tf.tidy(() => {
      const alpha = tf.tensor(a, [a.length, ...ones]);
      const points = tf.add(baseline, tf.mul(alpha, tf.sub(x, baseline)));
      const g = tf.grad((p: tf.Tensor) => tf.sum(f(p)))(points);
      return tf.add(acc, tf.sum(tf.mul(g, tf.tensor(weights.slice(i, i + a.length), [a.length, ...ones])), 0));
    });
    acc.dispose();
    acc = next;
  }
  const attribution = tf.tidy(() => tf.mul(tf.sub(x, baseline), acc));
  acc.dispose();
  return take(attribution);
}

/** A Gaussian blur of NCHW pixels [1, C, S, S] (kernel 2·⌈3σ⌉+1, mirrored borders without repeating the edge). */
export function blurPixels(pixels: tf.Tensor4D, sigma: number): tf.Tensor4D {
  return tf.tidy(() => {
    const r = Math.ceil(3 * sigma);
    if (r >= pixels.shape[2]) throw new Error(`ig: blurSigma ${sigma} needs a kernel radius of ${r} px, more than the ${pixels.shape[2]}-px image allows (mirrored borders); use blurSigma < ${pixels.shape[2] / 3}`);
    const k1 = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
    const s = k1.reduce((a, b) => a + b, 0);
    const c = pixels.shape[1];
    const kernel = tf.tile(tf.reshape(tf.outerProduct(tf.tensor1d(k1.map((v) => v / s)), tf.tensor1d(k1.map((v) => v / s))), [2 * r + 1, 2 * r + 1, 1, 1]), [1, 1, c, 1]);
    const nhwc = tf.mirrorPad(tf.transpose(pixels, [0, 2, 3, 1]), [[0, 0], [r, r], [r, r], [0, 0]], 'reflect') as tf.Tensor4D;
    return tf.transpose(tf.depthwiseConv2d(nhwc, kernel as tf.Tensor4D, 1, 'valid'), [0, 3, 1, 2]) as tf.Tensor4D;
  });
}

/** out[g] = Σ_c v[g·inner + c·stride] (or Σ |·|) for c < size: rows of [L, D] (inner D, stride 1) or pixels of [C, S, S] (inner 1, stride S²). */
function reduceAttribution(attr: Float32Array, groups: number, size: number, stride: number, inner: number, abs: boolean): Float64Array {
  const out = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    let s = 0;
    for (let c = 0; c < size; c++) {
      const v = attr[g * inner + c * stride];
      s += abs ? Math.abs(v) : v;
    }
    out[g] = s;
  }
  return out;
}

/** The point x, its baseline and F for one side and `at`. */
function pathOf(ctx: ExplainContext, side: Side, o: IgOptions): { x: tf.Tensor; baseline: tf.Tensor; f: PathTarget; owned: tf.Tensor[] } {
  const { cache, model } = ctx;
  if (o.baseline === 'blur' && !(side === 'image' && o.at === 'input')) {
    throw new Error(`ig: baseline "blur" is a blurred image, so it needs side image and at = input (got side ${side}, at = ${o.at}); use baseline zero`);
  }
  if (o.at === 'layer') {
    const x = cache.states(side)[o.layer];
    const baseline = tf.zerosLike(x);
    return { x, baseline, f: (p) => targetOfState(cache, side, p as tf.Tensor3D, o.layer), owned: [baseline] };
  }
  if (side === 'image') {
    const x = ctx.pair.pixels;
    const baseline = o.baseline === 'blur' ? blurPixels(x, o.blurSigma) : tf.zerosLike(x);
    return { x, baseline, f: (p) => targetOfPixels(cache, p as tf.Tensor4D), owned: [baseline] };
  }
  const x = tf.tidy(() => model.text.tokenEmbeddings([ctx.pair.ids]));
  const baseline = tf.zerosLike(x);
  return { x, baseline, f: (p) => targetOfTokenEmbeddings(cache, p as tf.Tensor3D), owned: [x, baseline] };
}

function igSide(side: Side) {
  return (ctx: ExplainContext, o: IgOptions): SideResult => {
    const path = pathOf(ctx, side, o);
    let attribution: Float32Array;
    try {
      attribution = integratedGradients(path.x, path.baseline, path.f, { steps: o.steps, rule: o.rule as IgRule, batchSize: o.batchSize });
    } finally {
      tf.dispose(path.owned);
    }
    const abs = o.readout === 'abs';
    const shape = path.x.shape;
    let map: MapResult;
    let scores: Float64Array;
    if (side === 'image' && o.at === 'input') {
      const [, c, s] = shape;
      scores = reduceAttribution(attribution, s * s, c, s * s, 1, abs); // channels-first: pixel p, channel c at c·S² + p
      map = imageMapFromPixels(scores, s);
    } else {
      const [, L, D] = shape;
      scores = reduceAttribution(attribution, L, D, 1, D, abs);
      map = side === 'image' ? imageMapFromTokens(scores, ctx.model.config.vision.imageSize) : textMapFromTokens(scores);
    }
    return { map, extra: { attribution, shape, scores: Array.from(scores), at: o.at, ...(o.at === 'layer' ? { layer: o.layer } : {}) } };
  };
}

export const ig = defineExplainer<IgOptions>({
  name: 'ig',
  description:
    'Integrated Gradients (Sundararajan et al. 2017): (x − x′) ⊙ Riemann mean of ∇target on the straight path, at the pixels / token embeddings (at = input) or at the input of block `layer` (at = layer); Σ over channels per pixel / token',
  options: IG_OPTIONS,
  image: igSide('image'),
  text: igSide('text'),
});
