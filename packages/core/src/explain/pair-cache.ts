// What one pair costs to compute once and every method and metric reuses: all hidden
// states of both towers on the clean inputs and the clean projected embeddings.
import * as tf from '@tensorflow/tfjs-core';
import type { Side } from '@ceb/types';
import type { ClipModel } from '../model/clip';

/** One image–text pair, already preprocessed and tokenized. */
export interface PairInput {
  /** [1, C, S, S] normalised pixel values (NCHW), as the vision tower takes them. */
  pixels: tf.Tensor4D;
  /** Token ids with BOS … EOS and no padding. */
  ids: number[];
}

/** A pair's states computed elsewhere (a pool worker gets the main thread's); the cache owns them. */
export interface KnownPairStates {
  vision: tf.Tensor3D[];
  text: tf.Tensor3D[];
  imageEmbedding: tf.Tensor2D;
  textEmbedding: tf.Tensor2D;
}

export class PairCache {
  private vision?: tf.Tensor3D[];
  private text?: tf.Tensor3D[];
  private imageEmb?: tf.Tensor2D;
  private textEmb?: tf.Tensor2D;

  constructor(
    readonly model: ClipModel,
    readonly pair: PairInput,
    known?: KnownPairStates,
  ) {
    if (pair.pixels.shape[0] !== 1) throw new Error(`a pair has one image; got a batch of ${pair.pixels.shape[0]}`);
    if (known) ({ vision: this.vision, text: this.text, imageEmbedding: this.imageEmb, textEmbedding: this.textEmb } = known);
  }

  /** Vision hidden states [1, L, D]: index 0 = embed output, k = after block k−1. Kept; do not dispose. */
  visionStates(): tf.Tensor3D[] {
    if (!this.vision) {
      const v = this.model.vision;
      this.vision = tf.tidy(() => v.hiddenStates(v.embed(this.pair.pixels)).hidden.map((h) => tf.keep(h)));
    }
    return this.vision;
  }

  textStates(): tf.Tensor3D[] {
    if (!this.text) {
      const t = this.model.text;
      this.text = tf.tidy(() => t.hiddenStates(t.embed([this.pair.ids])).hidden.map((h) => tf.keep(h)));
    }
    return this.text;
  }

  /** The hidden states of one side's tower (visionStates or textStates). Kept; do not dispose. */
  states(side: Side): tf.Tensor3D[] {
    return side === 'image' ? this.visionStates() : this.textStates();
  }

  /** Output of block `layer` (HF hidden_states[layer + 1]). */
  stateAfter(side: Side, layer: number): tf.Tensor3D {
    const states = this.states(side);
    if (!Number.isInteger(layer) || layer < 0 || layer >= states.length - 1) {
      throw new Error(`layer ${layer} is outside the ${side} tower's blocks 0…${states.length - 2}`);
    }
    return states[layer + 1];
  }

  /** Clean projected image embedding [1, P]. Kept; do not dispose. */
  imageEmbedding(): tf.Tensor2D {
    if (!this.imageEmb) {
      const states = this.visionStates();
      this.imageEmb = tf.tidy(() => tf.keep(this.model.vision.head(states[states.length - 1])));
    }
    return this.imageEmb;
  }

  textEmbedding(): tf.Tensor2D {
    if (!this.textEmb) {
      const states = this.textStates();
      this.textEmb = tf.tidy(() => tf.keep(this.model.text.head(states[states.length - 1], [this.pair.ids])));
    }
    return this.textEmb;
  }

  /** The clean embedding of the side that is NOT explained (the fixed target). */
  otherEmbedding(explained: Side): tf.Tensor2D {
    return explained === 'image' ? this.textEmbedding() : this.imageEmbedding();
  }

  /** Cosine similarity of the clean pair. */
  similarity(): number {
    return tf.tidy(() => cosineRows(this.imageEmbedding(), this.textEmbedding()).dataSync()[0]);
  }

  dispose(): void {
    tf.dispose([...(this.vision ?? []), ...(this.text ?? []), ...(this.imageEmb ? [this.imageEmb] : []), ...(this.textEmb ? [this.textEmb] : [])]);
    this.vision = this.text = this.imageEmb = this.textEmb = undefined;
  }
}

/**
 * Row-wise cosine similarity of a [B, P] against b [1, P] or [B, P], as PyTorch's
 * cosine_similarity: x·y / max(‖x‖·‖y‖, eps).
 */
export function cosineRows(a: tf.Tensor2D, b: tf.Tensor2D, eps = 1e-8): tf.Tensor1D {
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(a, b), 1);
    const na = tf.norm(a, 'euclidean', 1);
    const nb = tf.norm(b, 'euclidean', 1);
    return tf.div(dot, tf.maximum(tf.mul(na, nb), eps)) as tf.Tensor1D;
  });
}
