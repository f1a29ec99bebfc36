// Adam for the project's small optimisations (M2IB's mask, ROAR's probes): plain tensors,
// nothing outlives dispose(), numbers as PyTorch's torch.optim.Adam (no weight decay).
import * as tf from '@tensorflow/tfjs-core';

/** Adam as PyTorch writes it (bias-corrected moments, eps added outside the square root). */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/** One parameter tensor's Adam state; one instance per parameter (each may have its own lr). */
export class Adam {
  private m: tf.Tensor;
  private v: tf.Tensor;
  private t = 0;

  constructor(
    shape: number[],
    private readonly lr: number,
    private readonly beta1: number = ADAM.beta1,
    private readonly beta2: number = ADAM.beta2,
    private readonly eps: number = ADAM.eps,
  ) {
    this.m = tf.zeros(shape);
    this.v = tf.zeros(shape);
  }

  /** Returns the updated parameter; the caller disposes the old one. */
  step(param: tf.Tensor, grad: tf.Tensor): tf.Tensor {
    this.t++;
    const [m, v, next] = tf.tidy(() => {
      const m = tf.add(tf.mul(this.m, this.beta1), tf.mul(grad, 1 - this.beta1));
      const v = tf.add(tf.mul(this.v, this.beta2), tf.mul(tf.square(grad), 1 - this.beta2));
      const mHat = tf.div(m, 1 - this.beta1 ** this.t);
      const vHat = tf.div(v, 1 - this.beta2 ** this.t);
      return [m, v, tf.sub(param, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.eps)), this.lr))];
    });
    tf.dispose([this.m, this.v]);
    this.m = m;
    this.v = v;
    return next;
  }

  dispose(): void {
    tf.dispose([this.m, this.v]);
  }
}
