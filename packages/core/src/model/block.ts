// One pre-LN transformer block as in Hugging Face CLIPEncoderLayer:
// h += attn(ln1(h)); h += mlp(ln2(h)).
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from './config';
import { activation, type LayerNorm, type Linear } from './layers';

export interface BlockWeights {
  ln1: LayerNorm;
  q: Linear;
  k: Linear;
  v: Linear;
  out: Linear;
  ln2: LayerNorm;
  fc1: Linear;
  fc2: Linear;
}

export interface BlockOptions {
  /** Additive mask [L, L] (0 or a large negative), e.g. the causal mask of the text tower. */
  mask?: tf.Tensor2D;
  /**
   * Multiplies the attention probabilities [B, H, L, L] after the softmax. A tensor of ones
   * changes nothing, and the gradient w.r.t. it is ∇A ⊙ A — what Chefer et al. need.
   */
  gate?: tf.Tensor;
  /** Return the attention probabilities [B, H, L, L]. */
  wantAttention?: boolean;
}

export class Block {
  private readonly act: (x: tf.Tensor) => tf.Tensor;
  private readonly headDim: number;
  private readonly scale: number;

  constructor(
    readonly w: BlockWeights,
    readonly numHeads: number,
    act: Activation,
  ) {
    this.act = activation(act);
    this.headDim = w.q.outFeatures / numHeads;
    this.scale = this.headDim ** -0.5;
  }

  /** [B, L, D] → [B·H, L, dh] */
  private splitHeads(x: tf.Tensor, b: number, l: number): tf.Tensor3D {
    const x4 = tf.transpose(tf.reshape(x, [b, l, this.numHeads, this.headDim]), [0, 2, 1, 3]);
    return tf.reshape(x4, [b * this.numHeads, l, this.headDim]);
  }

  forward(h: tf.Tensor3D, opts: BlockOptions = {}): { h: tf.Tensor3D; attention?: tf.Tensor4D } {
    const [b, l, d] = h.shape;
    const x = this.w.ln1.apply(h);
    const q = this.splitHeads(tf.mul(this.w.q.apply(x), this.scale), b, l);
    const k = this.splitHeads(this.w.k.apply(x), b, l);
    const v = this.splitHeads(this.w.v.apply(x), b, l);
    let scores: tf.Tensor = tf.matMul(q, k, false, true);
    if (opts.mask) scores = tf.add(scores, opts.mask);
    let probs = tf.reshape(tf.softmax(scores), [b, this.numHeads, l, l]) as tf.Tensor4D;
    const attention = opts.wantAttention ? probs : undefined;
    if (opts.gate) probs = tf.mul(probs, opts.gate) as tf.Tensor4D;
    const ctx = tf.matMul(tf.reshape(probs, [b * this.numHeads, l, l]) as tf.Tensor3D, v);
    const merged = tf.reshape(tf.transpose(tf.reshape(ctx, [b, this.numHeads, l, this.headDim]), [0, 2, 1, 3]), [b, l, d]);
    const h1 = tf.add(h, this.w.out.apply(merged));
    const m = this.w.fc2.apply(this.act(this.w.fc1.apply(this.w.ln2.apply(h1))));
    return { h: tf.add(h1, m) as tf.Tensor3D, attention };
  }

  dispose(): void {
    for (const part of Object.values(this.w)) part.dispose();
  }
}
