// The two CLIP towers. Both expose the same seam: `embed` (tokens before block 0),
// `runBlocks(h, from, to)` (the state after any block) and `head` (pool + norm + projection).
// Explainers use the seam to compute the prefix up to a block once per pair and run only
// the rest of the tower per step.
import * as tf from '@tensorflow/tfjs-core';
import type { TextConfig, VisionConfig } from './config';
import { Block, type BlockOptions } from './block';
import type { LayerNorm, Linear } from './layers';

export interface RunOptions {
  /** Collect the attention probabilities [B, H, L, L] of every block run. */
  attention?: boolean;
  /** Per-block multiplicative gates on the attention probabilities, indexed by block number. */
  gates?: (tf.Tensor | undefined)[];
}

export interface RunResult {
  h: tf.Tensor3D;
  /** attention[i] belongs to block `from + i`; present when asked for. */
  attention?: tf.Tensor4D[];
}

abstract class TowerBase {
  constructor(readonly blocks: Block[]) {}

  get numLayers(): number {
    return this.blocks.length;
  }

  protected blockMask(_l: number): tf.Tensor2D | undefined {
    return undefined;
  }

  /**
   * Runs blocks `from` … `to − 1` (half-open, 0-based; block k's output is Hugging Face
   * `hidden_states[k + 1]`). `to` defaults to the number of blocks.
   */
  runBlocks(h: tf.Tensor3D, from = 0, to = this.numLayers, opts: RunOptions = {}): RunResult {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > this.numLayers || from > to) {
      throw new Error(`runBlocks(${from}, ${to}): blocks must satisfy 0 ≤ from ≤ to ≤ ${this.numLayers}`);
    }
    const mask = this.blockMask(h.shape[1]);
    const attention: tf.Tensor4D[] = [];
    let x = h;
    for (let i = from; i < to; i++) {
      const blockOpts: BlockOptions = { mask, wantAttention: opts.attention, gate: opts.gates?.[i] };
      const out = this.blocks[i].forward(x, blockOpts);
      x = out.h;
      if (out.attention) attention.push(out.attention);
    }
    return opts.attention ? { h: x, attention } : { h: x };
  }

  /** Every hidden state: [embed output, after block 0, …] — HF `hidden_states`. */
  hiddenStates(h0: tf.Tensor3D, opts: RunOptions = {}): { hidden: tf.Tensor3D[]; attention?: tf.Tensor4D[] } {
    const hidden = [h0];
    const attention: tf.Tensor4D[] = [];
    for (let i = 0; i < this.numLayers; i++) {
      const r = this.runBlocks(hidden[i], i, i + 1, opts);
      hidden.push(r.h);
      if (r.attention) attention.push(...r.attention);
    }
    return opts.attention ? { hidden, attention } : { hidden };
  }

  disposeBlocks(): void {
    for (const b of this.blocks) b.dispose();
  }
}

export interface VisionWeights {
  /** Patch embedding as a linear map over flattened (channel, row, col) patches. */
  patch: Linear;
  classEmbedding: tf.Tensor1D;
  positionEmbedding: tf.Tensor2D;
  preNorm: LayerNorm;
  postNorm: LayerNorm;
  projection: Linear;
}

export class VisionTower extends TowerBase {
  readonly gridSize: number;

  constructor(
    readonly config: VisionConfig,
    readonly w: VisionWeights,
    blocks: Block[],
  ) {
    super(blocks);
    this.gridSize = config.imageSize / config.patchSize;
  }

  get numTokens(): number {
    return this.gridSize * this.gridSize + 1;
  }

  /** [CLS; patches] + positions, before the pre-LayerNorm (HF `CLIPVisionEmbeddings`). */
  embeddings(pixels: tf.Tensor4D): tf.Tensor3D {
    const [b, c, hgt, wid] = pixels.shape;
    const { imageSize: s, patchSize: p, numChannels } = this.config;
    if (c !== numChannels || hgt !== s || wid !== s) {
      throw new Error(`pixel values have shape [${pixels.shape}], expected [B, ${numChannels}, ${s}, ${s}] (NCHW)`);
    }
    const g = this.gridSize;
    // Reshape + matMul instead of a strided conv: same numbers, and its gradients exist on wasm.
    const patches = tf.reshape(
      tf.transpose(tf.reshape(pixels, [b, c, g, p, g, p]), [0, 2, 4, 1, 3, 5]),
      [b, g * g, c * p * p],
    );
    const tokens = this.w.patch.apply(patches);
    const d = this.config.hiddenSize;
    const cls = tf.broadcastTo(tf.reshape(this.w.classEmbedding, [1, 1, d]), [b, 1, d]);
    return tf.add(tf.concat([cls, tokens], 1), this.w.positionEmbedding) as tf.Tensor3D;
  }

  /** Tokens entering block 0 (HF `hidden_states[0]`): pre-LayerNorm of the embeddings. */
  embed(pixels: tf.Tensor4D): tf.Tensor3D {
    return this.w.preNorm.apply(this.embeddings(pixels)) as tf.Tensor3D;
  }

  /** CLS token after the post-LayerNorm (HF `pooler_output`). */
  pool(h: tf.Tensor3D): tf.Tensor2D {
    const [b, , d] = h.shape;
    return this.w.postNorm.apply(tf.reshape(tf.slice(h, [0, 0, 0], [b, 1, d]), [b, d])) as tf.Tensor2D;
  }

  /** Projected, not normalised, image embedding [B, P] from the last hidden state. */
  head(h: tf.Tensor3D): tf.Tensor2D {
    return this.w.projection.apply(this.pool(h)) as tf.Tensor2D;
  }

  dispose(): void {
    this.disposeBlocks();
    const w = this.w;
    w.patch.dispose();
    w.classEmbedding.dispose();
    w.positionEmbedding.dispose();
    w.preNorm.dispose();
    w.postNorm.dispose();
    w.projection.dispose();
  }
}

export interface TextWeights {
  tokenEmbedding: tf.Tensor2D;
  positionEmbedding: tf.Tensor2D;
  finalNorm: LayerNorm;
  projection: Linear;
  /** Look tokens up with a one-hot product (gather has no gradient on wasm): for training. */
  oneHotLookup?: boolean;
}

export type TokenIds = number[][];

/** Pooled position per row: the first maximum of the ids (OpenAI / HF ≤ 4.30: argmax). */
export function poolIndices(ids: TokenIds): number[] {
  return ids.map((row) => {
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    return best;
  });
}

/** How the text tower runs: standard CLIP is causal with one projection (see ModelQuirks). */
export interface TextBehaviour {
  causalMask: boolean;
  projectionTwice: boolean;
}

export class TextTower extends TowerBase {
  private masks = new Map<number, tf.Tensor2D>();

  constructor(
    readonly config: TextConfig,
    readonly w: TextWeights,
    blocks: Block[],
    readonly behaviour: TextBehaviour = { causalMask: true, projectionTwice: false },
  ) {
    super(blocks);
  }

  /** Causal mask: a large negative above the diagonal, so those probabilities are exactly 0. */
  protected override blockMask(l: number): tf.Tensor2D | undefined {
    if (!this.behaviour.causalMask) return undefined;
    let m = this.masks.get(l);
    if (!m) {
      const data = new Float32Array(l * l);
      for (let i = 0; i < l; i++) for (let j = i + 1; j < l; j++) data[i * l + j] = -1e9;
      m = tf.keep(tf.tensor2d(data, [l, l]));
      this.masks.set(l, m);
    }
    return m;
  }

  private checkIds(ids: TokenIds): void {
    const l = ids[0]?.length ?? 0;
    if (ids.length === 0 || l === 0) throw new Error('token ids are empty');
    if (l > this.config.maxPositions) {
      throw new Error(`caption has ${l} tokens; the text tower takes at most ${this.config.maxPositions}`);
    }
    for (const row of ids) {
      if (row.length !== l) throw new Error(`token id rows differ in length (${row.length} vs ${l}); pad them`);
      for (const id of row) {
        if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) {
          throw new Error(`token id ${id} is outside the vocabulary [0, ${this.config.vocabSize})`);
        }
      }
    }
  }

  /** Token embeddings [B, L, D] (no positions): the input of text saliency and masking. */
  tokenEmbeddings(ids: TokenIds): tf.Tensor3D {
    this.checkIds(ids);
    const flat = tf.tensor1d(ids.flat(), 'int32');
    const rows = this.w.oneHotLookup
      ? tf.matMul(tf.cast(tf.oneHot(flat, this.config.vocabSize), 'float32') as tf.Tensor2D, this.w.tokenEmbedding)
      : tf.gather(this.w.tokenEmbedding, flat);
    return tf.reshape(rows, [ids.length, ids[0].length, this.config.hiddenSize]) as tf.Tensor3D;
  }

  /** Tokens entering block 0 (HF `hidden_states[0]`): token + position embeddings. */
  embed(ids: TokenIds): tf.Tensor3D {
    return this.embedTokens(this.tokenEmbeddings(ids));
  }

  /** Adds the position embeddings to given token embeddings [B, L, D]. */
  embedTokens(tokenEmbeddings: tf.Tensor3D): tf.Tensor3D {
    const l = tokenEmbeddings.shape[1];
    if (l > this.config.maxPositions) {
      throw new Error(`caption has ${l} tokens; the text tower takes at most ${this.config.maxPositions}`);
    }
    const pos = tf.slice(this.w.positionEmbedding, [0, 0], [l, this.config.hiddenSize]);
    return tf.add(tokenEmbeddings, pos) as tf.Tensor3D;
  }

  /** final_layer_norm at every position (HF `last_hidden_state`). */
  finalNorm(h: tf.Tensor3D): tf.Tensor3D {
    return this.w.finalNorm.apply(h) as tf.Tensor3D;
  }

  /** Pooled state [B, D] at the pooled position, after the final LayerNorm. */
  pool(h: tf.Tensor3D, ids: TokenIds): tf.Tensor2D {
    const [b, l] = h.shape;
    if (ids.length !== b) throw new Error(`head: ${ids.length} id rows for a batch of ${b}`);
    // A one-hot product rather than gather: gather's gradient is missing on wasm.
    const onehot = tf.cast(tf.oneHot(tf.tensor1d(poolIndices(ids), 'int32'), l), 'float32');
    const pooled = tf.sum(tf.mul(h, tf.expandDims(onehot, 2)), 1) as tf.Tensor2D;
    return this.w.finalNorm.apply(pooled) as tf.Tensor2D;
  }

  /** Projected, not normalised, text embedding [B, P]. */
  head(h: tf.Tensor3D, ids: TokenIds): tf.Tensor2D {
    const once = this.w.projection.apply(this.pool(h, ids)) as tf.Tensor2D;
    return this.behaviour.projectionTwice ? (this.w.projection.apply(once) as tf.Tensor2D) : once;
  }

  dispose(): void {
    this.disposeBlocks();
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
    this.w.tokenEmbedding.dispose();
    this.w.positionEmbedding.dispose();
    this.w.finalNorm.dispose();
    this.w.projection.dispose();
  }
}
