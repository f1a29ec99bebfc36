// The CLIP model object: two towers, the logit scale, and the encoders built from them.
import * as tf from '@tensorflow/tfjs-core';
import type { ClipConfig, TextConfig, VisionConfig } from './config';
import { Block } from './block';
import { fastLinear, layerNorm, trainableLinear, type LayerNorm, type Linear } from './layers';
import type { F32Dict, F32Tensor, KeyLayout } from './layout';
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

/**
 * Turns HF-named dict entries into the tensors a model owns: tf.Variables when trainable,
 * every one recorded in `params` under its HF name.
 */
interface WeightReader {
  trainable: boolean;
  params: Map<string, tf.Tensor>;
  /** The tensor for `key`, made from `stored` (by default the dict's entry for `key`). */
  tensor(key: string, stored?: F32Tensor): tf.Tensor;
}

function weightReader(dict: F32Dict, trainable: boolean): WeightReader {
  const modelId = nextModelId++;
  const params = new Map<string, tf.Tensor>();
  const tensor = (key: string, stored: F32Tensor = dict.get(key)!): tf.Tensor => {
    const shape = key === 'logit_scale' ? [] : stored.shape;
    let x: tf.Tensor = tf.tensor(stored.data, shape);
    if (trainable) {
      const initial = x;
      // Variable names are global in tfjs: make them unique per model, keep the HF key in `params`.
      x = tf.variable(initial, true, `${key}#${modelId}`);
      initial.dispose(); // the variable holds its own copy
    }
    params.set(key, x);
    return x;
  };
  return { trainable, params, tensor };
}

function readLinear(w: WeightReader, prefix: string, bias = true): Linear {
  const weight = w.tensor(`${prefix}.weight`) as tf.Tensor2D;
  const b = bias ? (w.tensor(`${prefix}.bias`) as tf.Tensor1D) : undefined;
  return w.trainable ? trainableLinear(weight, b) : fastLinear(weight, b);
}

function readNorm(w: WeightReader, prefix: string, eps: number): LayerNorm {
  return layerNorm(w.tensor(`${prefix}.weight`) as tf.Tensor1D, w.tensor(`${prefix}.bias`) as tf.Tensor1D, eps);
}

type EncoderGeometry = Pick<VisionConfig & TextConfig, 'numLayers' | 'numHeads' | 'layerNormEps' | 'act'>;

function readEncoderBlocks(w: WeightReader, tower: 'vision_model' | 'text_model', g: EncoderGeometry): Block[] {
  return Array.from({ length: g.numLayers }, (_, i) => {
    const p = `${tower}.encoder.layers.${i}.`;
    return new Block(
      {
        ln1: readNorm(w, `${p}layer_norm1`, g.layerNormEps),
        q: readLinear(w, `${p}self_attn.q_proj`),
        k: readLinear(w, `${p}self_attn.k_proj`),
        v: readLinear(w, `${p}self_attn.v_proj`),
        out: readLinear(w, `${p}self_attn.out_proj`),
        ln2: readNorm(w, `${p}layer_norm2`, g.layerNormEps),
        fc1: readLinear(w, `${p}mlp.fc1`),
        fc2: readLinear(w, `${p}mlp.fc2`),
      },
      g.numHeads,
      g.act,
    );
  });
}

function buildVisionTower(w: WeightReader, v: VisionConfig): VisionTower {
  const patchW = w.tensor('vision_model.embeddings.patch_embedding.weight');
  const patchIn = patchW.size / patchW.shape[0];
  return new VisionTower(
    v,
    {
      // The conv kernel [D, C, p, p] read as a linear map over flattened patches [D, C·p·p].
      patch: w.trainable
        ? trainableLinear(patchW as tf.Tensor2D, undefined, [patchW.shape[0], patchIn])
        : fastLinear(tf.reshape(patchW, [patchW.shape[0], patchIn]) as tf.Tensor2D),
      classEmbedding: w.tensor('vision_model.embeddings.class_embedding') as tf.Tensor1D,
      positionEmbedding: w.tensor('vision_model.embeddings.position_embedding.weight') as tf.Tensor2D,
      preNorm: readNorm(w, 'vision_model.pre_layrnorm', v.layerNormEps),
      postNorm: readNorm(w, 'vision_model.post_layernorm', v.layerNormEps),
      projection: readLinear(w, 'visual_projection', false),
    },
    readEncoderBlocks(w, 'vision_model', v),
  );
}

function buildTextTower(w: WeightReader, dict: F32Dict, t: TextConfig, quirks: ModelQuirks): TextTower {
  const textProjection = dict.get('text_projection.weight')!;
  if (quirks.textProjectionTwice && textProjection.shape[0] !== textProjection.shape[1]) {
    throw new Error(
      `textProjectionTwice: text_projection is ${textProjection.shape.join('×')}; applying it twice needs a square projection (the chest X-ray model's is 512×512)`,
    );
  }
  return new TextTower(
    t,
    {
      tokenEmbedding: w.tensor('text_model.embeddings.token_embedding.weight') as tf.Tensor2D,
      positionEmbedding: w.tensor('text_model.embeddings.position_embedding.weight') as tf.Tensor2D,
      oneHotLookup: w.trainable,
      finalNorm: readNorm(w, 'text_model.final_layer_norm', t.layerNormEps),
      projection: readLinear(w, 'text_projection', false),
    },
    readEncoderBlocks(w, 'text_model', t),
    { causalMask: quirks.textCausalMask !== false, projectionTwice: quirks.textProjectionTwice === true },
  );
}

/** exp(logit_scale); a checkpoint without one gets config.logitScaleInit (the caller's dict is left as it is). */
function readLogitScale(w: WeightReader, dict: F32Dict, config: ClipConfig): number {
  const stored = dict.get('logit_scale') ?? { shape: [], data: Float32Array.of(config.logitScaleInit) };
  return Math.exp(w.tensor('logit_scale', stored).dataSync()[0]);
}

/** Builds the model from HF-named float32 tensors whose shapes were checked against `config`. */
export function buildClip(dict: F32Dict, config: ClipConfig, source: ClipModel['source'], opts: BuildOptions = {}): ClipModel {
  const trainable = opts.trainable ?? false;
  const weights = weightReader(dict, trainable);
  const quirks: ModelQuirks = { ...opts.quirks };
  const vision = buildVisionTower(weights, config.vision);
  const text = buildTextTower(weights, dict, config.text, quirks);
  const logitScale = readLogitScale(weights, dict, config);
  const params = weights.params;
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
