// One transformer block of a tower, recomputed from its weights with its intermediates in the
// open: the raw q, k, v projections, the attention probabilities (which a caller may replace by
// a tensor of its own, to differentiate with respect to them), and the attention output before
// the out-projection (to which a caller may add a zero tensor, for the same reason). The tower
// API gives a block's input and output and ∇A ⊙ A (gates); Grad-ECLIP needs q, k, v and
// ∂target/∂(attention output), and NIB's SaliencyMap and LeGrad need ∂target/∂A itself, so this
// file is the one place in the methods that reads a block's weights. The block is Hugging Face's
// CLIPEncoderLayer (pre-LN): h += out(attn(ln1(h))); h += fc2(act(fc1(ln2(h)))). A test checks
// that it equals the tower's own block.
import * as tf from '@tensorflow/tfjs-core';
import { activation, type ClipModel } from '@ceb/core';
import type { Side } from '@ceb/types';

export interface OpenBlockOptions {
  /** Heads to split q, k, v into (default: the model's). Grad-ECLIP's code recomputes with 1. */
  heads?: number;
  /** Attention probabilities [B, H, L, L] to use instead of the block's own softmax. */
  probs?: tf.Tensor;
  /** Added to the attention output [B, L, D] before the out-projection (zeros: to take a gradient there). */
  attnOutDelta?: tf.Tensor;
}

export interface OpenBlockResult {
  /** The block's output [B, L, D]. */
  h: tf.Tensor3D;
  /** Raw projections [B, L, D] (q before its 1/√d scaling). */
  q: tf.Tensor3D;
  k: tf.Tensor3D;
  v: tf.Tensor3D;
  /** The block's own softmax probabilities [B, H, L, L] (not the replaced ones). */
  probs: tf.Tensor4D;
  /** Attention output before the out-projection [B, L, D] (with attnOutDelta added). */
  attnOut: tf.Tensor3D;
}

/** The additive causal mask of the text tower (when the model runs it causal): −1e9 above the diagonal. */
function causalMask(l: number): tf.Tensor2D {
  const data = new Float32Array(l * l);
  for (let i = 0; i < l; i++) for (let j = i + 1; j < l; j++) data[i * l + j] = -1e9;
  return tf.tensor2d(data, [l, l]);
}

/** [B, L, D] → [B, H, L, D/H] */
function split(x: tf.Tensor, b: number, l: number, heads: number): tf.Tensor4D {
  return tf.transpose(tf.reshape(x, [b, l, heads, -1]), [0, 2, 1, 3]);
}

/** Block `index` of the `side` tower on h [B, L, D], with its intermediates (call inside a tidy). */
export function openBlock(model: ClipModel, side: Side, index: number, h: tf.Tensor3D, opts: OpenBlockOptions = {}): OpenBlockResult {
  const tower = side === 'image' ? model.vision : model.text;
  if (!Number.isInteger(index) || index < 0 || index >= tower.numLayers) throw new Error(`openBlock: block ${index} is outside the ${side} tower's blocks 0…${tower.numLayers - 1}`);
  const cfg = side === 'image' ? model.config.vision : model.config.text;
  const heads = opts.heads ?? cfg.numHeads;
  const [b, l, d] = h.shape;
  if (!Number.isInteger(heads) || heads < 1 || d % heads !== 0) throw new Error(`openBlock: ${heads} heads do not divide the width ${d}`);
  const w = tower.blocks[index].w;
  const x = w.ln1.apply(h);
  const q = w.q.apply(x) as tf.Tensor3D;
  const k = w.k.apply(x) as tf.Tensor3D;
  const v = w.v.apply(x) as tf.Tensor3D;
  let scores: tf.Tensor = tf.matMul(split(tf.mul(q, (d / heads) ** -0.5), b, l, heads), split(k, b, l, heads), false, true);
  if (side === 'text' && model.text.behaviour.causalMask) scores = tf.add(scores, causalMask(l));
  const probs = tf.softmax(scores) as tf.Tensor4D;
  const used = opts.probs ?? probs;
  let attnOut = tf.reshape(tf.transpose(tf.matMul(used as tf.Tensor4D, split(v, b, l, heads)), [0, 2, 1, 3]), [b, l, d]) as tf.Tensor3D;
  if (opts.attnOutDelta) attnOut = tf.add(attnOut, opts.attnOutDelta) as tf.Tensor3D;
  const h1 = tf.add(h, w.out.apply(attnOut));
  const mlp = w.fc2.apply(activation(cfg.act)(w.fc1.apply(w.ln2.apply(h1))));
  return { h: tf.add(h1, mlp) as tf.Tensor3D, q, k, v, probs, attnOut };
}
