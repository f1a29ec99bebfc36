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
 * A linear layer over variables (training): weight and bias get gradients. Forward and
 * backward are plain 2-D matMuls with the transposes made explicit, because a transposed
 * matMul operand runs ~13x slower on wasm. `viewShape` reads a weight of another shape (the
 * patch kernel [D, C, p, p]) as [out, in].
 */
export function trainableLinear(weight: tf.Tensor, bias?: tf.Tensor1D, viewShape?: [number, number]): Linear {
  const [outFeatures, inFeatures] = viewShape ?? (weight.shape as [number, number]);
  // customGrad disposes what its forward made, so the backward keeps x and w via `save`;
  // it also appends `save` to the arguments, so bias and no-bias are two functions.
  type Save = (t: tf.Tensor[]) => void;
  const forward = (x: tf.Tensor, w: tf.Tensor, save: Save) => {
    save([x, w]);
    const x2 = tf.reshape(x, [-1, inFeatures]) as tf.Tensor2D;
    const w2 = tf.reshape(w, [outFeatures, inFeatures]) as tf.Tensor2D;
    return { y: tf.matMul(x2, tf.transpose(w2)), lead: x.shape.slice(0, -1) };
  };
  const backward = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [x, w] = saved;
    const x2 = tf.reshape(x, [-1, inFeatures]) as tf.Tensor2D;
    const w2 = tf.reshape(w, [outFeatures, inFeatures]) as tf.Tensor2D;
    const dy2 = tf.reshape(dy, [-1, outFeatures]) as tf.Tensor2D;
    return { dy2, dx: tf.reshape(tf.matMul(dy2, w2), x.shape), dw: tf.reshape(tf.matMul(tf.transpose(dy2), x2), w.shape) };
  };
  const withBias = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: Save) => {
    const { y, lead } = forward(x, w, save);
    return {
      value: tf.reshape(tf.add(y, b), [...lead, outFeatures]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const { dy2, dx, dw } = backward(dy, saved);
        return [dx, dw, tf.sum(dy2, 0)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const noBias = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: Save) => {
    const { y, lead } = forward(x, w, save);
    return {
      value: tf.reshape(y, [...lead, outFeatures]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const { dx, dw } = backward(dy, saved);
        return [dx, dw];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return {
    inFeatures,
    outFeatures,
    get weight() {
      return tf.reshape(weight, [outFeatures, inFeatures]) as tf.Tensor2D;
    },
    bias,
    apply: (x) => (bias ? withBias(x, weight, bias) : noBias(x, weight)) as tf.Tensor,
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
