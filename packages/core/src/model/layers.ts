// Building blocks of the CLIP towers: the fast linear layer, LayerNorm, activations.
import * as tf from '@tensorflow/tfjs-core';
import './gradients';
import type { Activation } from './config';

export interface Linear {
  inFeatures: number;
  outFeatures: number;
  /** y = x Wᵀ + b over the last axis of x. */
  apply(x: tf.Tensor): tf.Tensor;
  /** The weight as PyTorch stores it, [out, in]. */
  weight: tf.Tensor2D;
  bias?: tf.Tensor1D;
  dispose(): void;
}

/**
 * A linear layer whose forward is a plain 2-D `x · Wᵀ` (Wᵀ pre-transposed once) and whose
 * backward is `dy · W` with W kept as stored: on wasm the built-in matMul gradient uses
 * transposeB, which runs ~13x slower (see notes/tfjs-on-this-machine.md). Gradients flow to
 * the input only; the weights are constants here (training uses `trainableLinear`).
 */
export function fastLinear(weight: tf.Tensor2D, bias?: tf.Tensor1D): Linear {
  const [outFeatures, inFeatures] = weight.shape;
  const weightT = tf.keep(tf.transpose(weight)) as tf.Tensor2D;
  const forward = tf.customGrad(((x: tf.Tensor) => {
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, inFeatures]);
    let y: tf.Tensor = tf.matMul(x2 as tf.Tensor2D, weightT);
    if (bias) y = tf.add(y, bias);
    return {
      value: tf.reshape(y, [...lead, outFeatures]),
      gradFunc: (dy: tf.Tensor) => tf.reshape(tf.matMul(tf.reshape(dy, [-1, outFeatures]) as tf.Tensor2D, weight), x.shape),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return {
    inFeatures,
    outFeatures,
    weight,
    bias,
    apply: (x) => forward(x) as tf.Tensor,
    dispose: () => {
      weightT.dispose();
      weight.dispose();
      bias?.dispose();
    },
  };
}

/**
 * A linear layer with ordinary autodiff, so the weight and bias get gradients (training).
 * `viewShape` reads a weight of another shape (the patch-embedding kernel) as [out, in].
 */
export function trainableLinear(weight: tf.Tensor, bias?: tf.Tensor1D, viewShape?: [number, number]): Linear {
  const [outFeatures, inFeatures] = viewShape ?? (weight.shape as [number, number]);
  const w2 = (): tf.Tensor2D => (viewShape ? (tf.reshape(weight, viewShape) as tf.Tensor2D) : (weight as tf.Tensor2D));
  return {
    inFeatures,
    outFeatures,
    get weight() {
      return w2();
    },
    bias,
    apply: (x) => {
      const lead = x.shape.slice(0, -1);
      let y: tf.Tensor = tf.matMul(tf.reshape(x, [-1, inFeatures]) as tf.Tensor2D, w2(), false, true);
      if (bias) y = tf.add(y, bias);
      return tf.reshape(y, [...lead, outFeatures]);
    },
    dispose: () => {
      weight.dispose();
      bias?.dispose();
    },
  };
}

export interface LayerNorm {
  apply(x: tf.Tensor): tf.Tensor;
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  dispose(): void;
}

export function layerNorm(gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): LayerNorm {
  const axis = -1;
  return {
    gamma,
    beta,
    apply: (x) =>
      tf.tidy(() => {
        const { mean, variance } = tf.moments(x, axis, true);
        const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
        return tf.add(tf.mul(normed, gamma), beta);
      }),
    dispose: () => {
      gamma.dispose();
      beta.dispose();
    },
  };
}

export function activation(act: Activation): (x: tf.Tensor) => tf.Tensor {
  switch (act) {
    case 'quick_gelu':
      return (x) => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
    case 'gelu':
      return (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'gelu_new':
      return (x) =>
        tf.mul(
          tf.mul(x, 0.5),
          tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))),
        );
    case 'relu':
      return (x) => tf.relu(x);
  }
}
