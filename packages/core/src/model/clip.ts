// The CLIP model object: two towers, the logit scale, and the encoders built from them.
import * as tf from '@tensorflow/tfjs-core';
import type { ClipConfig } from './config';
import { Block } from './block';
import { fastLinear, layerNorm, trainableLinear, type Linear } from './layers';
import type { F32Dict, KeyLayout } from './layout';
import { TextTower, VisionTower, type TokenIds } from './tower';

export interface ClipModel {
  vision: VisionTower;
  text: TextTower;
  config: ClipConfig;
  /** exp(logit_scale): the logits are logitScale · cos(image, text). */
  logitScale: number;
  /** Where the weights came from and in which layout. */
  source: { path: string; layout: KeyLayout; configFrom: 'config.json' | 'inferred' | 'given' };
  /** Projected, not normalised, image embeddings [B, P] for NCHW pixel values. */
  encodeImage(pixels: tf.Tensor4D): tf.Tensor2D;
  /** Projected, not normalised, text embeddings [B, P]. */
  encodeText(ids: TokenIds): tf.Tensor2D;
  /**
   * Every weight under its Hugging Face name and shape (logit_scale included). In a trainable
   * model these are tf.Variables, so an optimiser can update them and an exporter write them.
   */
  params: Map<string, tf.Tensor>;
  trainable: boolean;
  /** Departures from standard CLIP it was built with (none for a standard model). */
  quirks: ModelQuirks;
  dispose(): void;
}

/**
 * Departures from standard CLIP, for parity with code that has them (spec/m2ib.md, "Known
 * quirks"): the chest X-ray wrapper of the official M2IB code runs its text tower without
 * the causal mask and applies the text projection twice. Off unless asked for.
 */
export interface ModelQuirks {
  /** false: text tokens attend in both directions. Default true (standard CLIP). */
  textCausalMask?: boolean;
  /** true: the text projection is applied twice (needs a square projection). Default false. */
  textProjectionTwice?: boolean;
}

/** The quirks that differ from standard CLIP, as words for logs and reports; [] if none. */
export function describeQuirks(q: ModelQuirks): string[] {
  const out: string[] = [];
  if (q.textCausalMask === false) out.push('text tower without the causal mask');
  if (q.textProjectionTwice) out.push('text projection applied twice');
  return out;
}

export interface BuildOptions {
  /**
   * Weights become variables and every op has a weight gradient on wasm (plain matMul linear
   * layers, one-hot token lookup). Slower; for training small models only.
   */
  trainable?: boolean;
  quirks?: ModelQuirks;
}

let nextModelId = 0;

/** Builds the model from HF-named float32 tensors whose shapes were checked against `config`. */
export function buildClip(dict: F32Dict, config: ClipConfig, source: ClipModel['source'], opts: BuildOptions = {}): ClipModel {
  const trainable = opts.trainable ?? false;
  const modelId = nextModelId++;
  const params = new Map<string, tf.Tensor>();
  const tensorFrom = (key: string): tf.Tensor => {
    const t = dict.get(key)!;
    const shape = key === 'logit_scale' ? [] : t.shape;
    let x: tf.Tensor = tf.tensor(t.data, shape);
    if (trainable) {
      const initial = x;
      // Variable names are global in tfjs: make them unique per model, keep the HF key in `params`.
      x = tf.variable(initial, true, `${key}#${modelId}`);
      initial.dispose(); // the variable holds its own copy
    }
    params.set(key, x);
    return x;
  };
  const makeLinear = (w: tf.Tensor2D, b?: tf.Tensor1D): Linear => (trainable ? trainableLinear(w, b) : fastLinear(w, b));
  const linear = (prefix: string, bias = true) =>
    makeLinear(tensorFrom(`${prefix}.weight`) as tf.Tensor2D, bias ? (tensorFrom(`${prefix}.bias`) as tf.Tensor1D) : undefined);
  const norm = (prefix: string, eps: number) =>
    layerNorm(tensorFrom(`${prefix}.weight`) as tf.Tensor1D, tensorFrom(`${prefix}.bias`) as tf.Tensor1D, eps);
  const blocks = (tower: 'vision_model' | 'text_model', n: number, heads: number, eps: number, act: ClipConfig['text']['act']) =>
    Array.from({ length: n }, (_, i) => {
      const p = `${tower}.encoder.layers.${i}.`;
      return new Block(
        {
          ln1: norm(`${p}layer_norm1`, eps),
          q: linear(`${p}self_attn.q_proj`),
          k: linear(`${p}self_attn.k_proj`),
          v: linear(`${p}self_attn.v_proj`),
          out: linear(`${p}self_attn.out_proj`),
          ln2: norm(`${p}layer_norm2`, eps),
          fc1: linear(`${p}mlp.fc1`),
          fc2: linear(`${p}mlp.fc2`),
        },
        heads,
        act,
      );
    });

  const v = config.vision;
  const patchW = tensorFrom('vision_model.embeddings.patch_embedding.weight');
  const patchIn = patchW.size / patchW.shape[0];
  const vision = new VisionTower(
    v,
    {
      // The conv kernel [D, C, p, p] read as a linear map over flattened patches [D, C·p·p].
      patch: trainable
        ? trainableLinear(patchW as tf.Tensor2D, undefined, [patchW.shape[0], patchIn])
        : fastLinear(tf.reshape(patchW, [patchW.shape[0], patchIn]) as tf.Tensor2D),
      classEmbedding: tensorFrom('vision_model.embeddings.class_embedding') as tf.Tensor1D,
      positionEmbedding: tensorFrom('vision_model.embeddings.position_embedding.weight') as tf.Tensor2D,
      preNorm: norm('vision_model.pre_layrnorm', v.layerNormEps),
      postNorm: norm('vision_model.post_layernorm', v.layerNormEps),
      projection: linear('visual_projection', false),
    },
    blocks('vision_model', v.numLayers, v.numHeads, v.layerNormEps, v.act),
  );
  const t = config.text;
  const quirks: ModelQuirks = { ...opts.quirks };
  const textProjection = dict.get('text_projection.weight')!;
  if (quirks.textProjectionTwice && textProjection.shape[0] !== textProjection.shape[1]) {
    throw new Error(
      `textProjectionTwice: text_projection is ${textProjection.shape.join('×')}; applying it twice needs a square projection (the chest X-ray model's is 512×512)`,
    );
  }
  const text = new TextTower(
    t,
    {
      tokenEmbedding: tensorFrom('text_model.embeddings.token_embedding.weight') as tf.Tensor2D,
      positionEmbedding: tensorFrom('text_model.embeddings.position_embedding.weight') as tf.Tensor2D,
      oneHotLookup: trainable,
      finalNorm: norm('text_model.final_layer_norm', t.layerNormEps),
      projection: linear('text_projection', false),
    },
    blocks('text_model', t.numLayers, t.numHeads, t.layerNormEps, t.act),
    { causalMask: quirks.textCausalMask !== false, projectionTwice: quirks.textProjectionTwice === true },
  );
  if (!dict.has('logit_scale')) dict.set('logit_scale', { shape: [], data: Float32Array.of(config.logitScaleInit) });
  const logitScaleParam = tensorFrom('logit_scale');
  const logitScale = Math.exp(logitScaleParam.dataSync()[0]);
  return {
    vision,
    text,
    config,
    logitScale,
    source,
    encodeImage: (pixels) => tf.tidy(() => vision.head(vision.runBlocks(vision.embed(pixels)).h)),
    encodeText: (ids) => tf.tidy(() => text.head(text.runBlocks(text.embed(ids)).h, ids)),
    params,
    trainable,
    quirks,
    dispose: () => {
      vision.dispose();
      text.dispose();
      // Whatever the towers did not own (e.g. the patch kernel behind its reshaped view).
      for (const t of params.values()) if (!t.isDisposed) t.dispose();
    },
  };
}
