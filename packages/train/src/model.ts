// The shipped small CLIP: its geometry (a Hugging Face config), a CLIP-like seeded
// initialisation, and a trainable build whose linear layers run fast on wasm.
import * as tf from '@tensorflow/tfjs-core';
import { buildClip, expectedShapes, parseClipConfig, type ClipConfig, type ClipModel, type F32Dict, type Linear } from '@ceb/core';
import { Rng } from '@ceb/datasets';

export interface TinyGeometry {
  vocabSize: number;
  imageSize: number;
  patchSize: number;
  visionWidth: number;
  visionLayers: number;
  visionHeads: number;
  textWidth: number;
  textLayers: number;
  textHeads: number;
  /** Text context (position embeddings). */
  maxPositions: number;
  projectionDim: number;
  /** MLP width = mlpRatio · width. */
  mlpRatio: number;
}

export const DEFAULT_GEOMETRY: TinyGeometry = {
  vocabSize: 576,
  imageSize: 224,
  patchSize: 32,
  visionWidth: 96,
  visionLayers: 3,
  visionHeads: 4,
  textWidth: 64,
  textLayers: 2,
  textHeads: 4,
  maxPositions: 77,
  projectionDim: 64,
  mlpRatio: 4,
};

export const LOGIT_SCALE_INIT = Math.log(1 / 0.07);
export const LOGIT_SCALE_MAX = Math.log(100);

/** The config.json object (Hugging Face CLIPConfig keys) for a geometry. */
export function configJson(g: TinyGeometry): Record<string, unknown> {
  const common = { hidden_act: 'quick_gelu', layer_norm_eps: 1e-5, attention_dropout: 0.0, initializer_range: 0.02, initializer_factor: 1.0, projection_dim: g.projectionDim };
  return {
    architectures: ['CLIPModel'],
    model_type: 'clip',
    initializer_factor: 1.0,
    logit_scale_init_value: LOGIT_SCALE_INIT,
    projection_dim: g.projectionDim,
    torch_dtype: 'float32',
    text_config: {
      model_type: 'clip_text_model',
      ...common,
      vocab_size: g.vocabSize,
      max_position_embeddings: g.maxPositions,
      hidden_size: g.textWidth,
      intermediate_size: g.mlpRatio * g.textWidth,
      num_hidden_layers: g.textLayers,
      num_attention_heads: g.textHeads,
      bos_token_id: g.vocabSize - 2,
      eos_token_id: g.vocabSize - 1,
      pad_token_id: g.vocabSize - 1,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      ...common,
      num_channels: 3,
      image_size: g.imageSize,
      patch_size: g.patchSize,
      hidden_size: g.visionWidth,
      intermediate_size: g.mlpRatio * g.visionWidth,
      num_hidden_layers: g.visionLayers,
      num_attention_heads: g.visionHeads,
    },
  };
}

export function geometryConfig(g: TinyGeometry): ClipConfig {
  return parseClipConfig(configJson(g), 'tiny geometry');
}

/** Standard normal draws from the project's seeded generator (Box–Muller). */
function gaussian(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rng.next();
    const v = rng.next();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/**
 * CLIP-like initial weights, seeded: LayerNorms 1/0, biases 0, logit_scale ln(1/0.07),
 * the class embedding N(0, width^-½) (as OpenAI's), every other weight N(0, 0.02)
 * (Hugging Face's initializer_range), in the order of `expectedShapes`.
 */
export function initWeights(config: ClipConfig, seed: number): F32Dict {
  const rng = new Rng(seed);
  const dict: F32Dict = new Map();
  for (const [key, shape] of expectedShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (key === 'logit_scale') data = Float32Array.of(LOGIT_SCALE_INIT);
    else if (/(layer_norm\d?|layrnorm|layernorm)\.weight$/.test(key)) data = new Float32Array(n).fill(1);
    else if (key.endsWith('.bias')) data = new Float32Array(n);
    else if (key.endsWith('class_embedding')) data = gaussian(rng, n, config.vision.hiddenSize ** -0.5);
    else data = gaussian(rng, n, 0.02);
    dict.set(key, { shape, data });
  }
  return dict;
}

/**
 * A linear layer over variables whose forward and backward are plain 2-D matMuls (the
 * transposes done explicitly): on wasm a transposed matMul operand runs ~13x slower.
 * `view` reads a weight of another shape (the patch kernel [D, C, p, p]) as [out, in].
 */
export function fastTrainableLinear(weight: tf.Tensor, bias?: tf.Tensor, view?: [number, number]): Linear {
  const [outFeatures, inFeatures] = view ?? (weight.shape as [number, number]);
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
    bias: bias as tf.Tensor1D | undefined,
    apply: (x) => (bias ? withBias(x, weight, bias) : noBias(x, weight)) as tf.Tensor,
    dispose: () => {
      weight.dispose();
      bias?.dispose();
    },
  };
}

/**
 * core's trainable build (HF-named variables, one-hot token lookup, matMul patch
 * embedding) with every linear layer swapped for `fastTrainableLinear` over the same
 * variables: same numbers, faster gradients.
 */
export function buildTrainable(dict: F32Dict, config: ClipConfig): ClipModel {
  const model = buildClip(dict, config, { path: '(in memory)', layout: 'hf', configFrom: 'given' }, { trainable: true });
  const p = model.params;
  const swap = (prefix: string, bias = true): Linear =>
    fastTrainableLinear(p.get(`${prefix}.weight`)!, bias ? p.get(`${prefix}.bias`)! : undefined);
  for (const [tower, name] of [[model.vision, 'vision_model'], [model.text, 'text_model']] as const) {
    tower.blocks.forEach((block, i) => {
      const pre = `${name}.encoder.layers.${i}.`;
      block.w.q = swap(`${pre}self_attn.q_proj`);
      block.w.k = swap(`${pre}self_attn.k_proj`);
      block.w.v = swap(`${pre}self_attn.v_proj`);
      block.w.out = swap(`${pre}self_attn.out_proj`);
      block.w.fc1 = swap(`${pre}mlp.fc1`);
      block.w.fc2 = swap(`${pre}mlp.fc2`);
    });
  }
  model.vision.w.projection = swap('visual_projection', false);
  model.text.w.projection = swap('text_projection', false);
  const patch = p.get('vision_model.embeddings.patch_embedding.weight')!;
  model.vision.w.patch = fastTrainableLinear(patch, undefined, [patch.shape[0], patch.size / patch.shape[0]]);
  return model;
}
