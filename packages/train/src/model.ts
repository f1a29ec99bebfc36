// The shipped small CLIP: its geometry (a Hugging Face config), a CLIP-like seeded
// initialisation, and a trainable build whose linear layers run fast on wasm.
import { buildClip, expectedShapes, parseClipConfig, type ClipConfig, type ClipModel, type F32Dict } from '@ceb/core';
import { Rng } from '@ceb/random';

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
  imageSize: 112,
  patchSize: 16,
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

/**
 * Hugging Face CLIP's initialisation (CLIPPreTrainedModel._init_weights, factor 1), seeded:
 * LayerNorms 1/0, biases 0, logit_scale ln(1/0.07), the class embedding N(0, width^-½),
 * embeddings N(0, 0.02), attention q/k/v and fc2 N(0, width^-½·(2·layers)^-½), out_proj
 * N(0, width^-½), fc1 N(0, (2·width)^-½), each projection N(0, its input width^-½).
 * Why not N(0, 0.02) everywhere: at these widths that leaves both towers near-constant
 * at init, and training sat on a loss plateau (≈ 3.71) for hundreds to thousands of steps.
 */
export function initWeights(config: ClipConfig, seed: number): F32Dict {
  const rng = new Rng(seed);
  const dict: F32Dict = new Map();
  const std = (key: string): number => {
    const tower = key.startsWith('vision_model.') ? config.vision : config.text;
    const d = tower.hiddenSize;
    const inProj = d ** -0.5 * (2 * tower.numLayers) ** -0.5;
    if (/self_attn\.(q|k|v)_proj\.weight$/.test(key) || key.endsWith('mlp.fc2.weight')) return inProj;
    if (key.endsWith('self_attn.out_proj.weight')) return d ** -0.5;
    if (key.endsWith('mlp.fc1.weight')) return (2 * d) ** -0.5;
    if (key === 'visual_projection.weight') return config.vision.hiddenSize ** -0.5;
    if (key === 'text_projection.weight') return config.text.hiddenSize ** -0.5;
    if (key.endsWith('class_embedding')) return config.vision.hiddenSize ** -0.5;
    return 0.02;
  };
  for (const [key, shape] of expectedShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (key === 'logit_scale') data = Float32Array.of(LOGIT_SCALE_INIT);
    else if (/(layer_norm\d?|layrnorm|layernorm)\.weight$/.test(key)) data = new Float32Array(n).fill(1);
    else if (key.endsWith('.bias')) data = new Float32Array(n);
    else data = rng.normals(n, std(key));
    dict.set(key, { shape, data });
  }
  return dict;
}

/** core's trainable build (HF-named variables, weight gradients that are fast on wasm). */
export function buildTrainable(dict: F32Dict, config: ClipConfig): ClipModel {
  return buildClip(dict, config, { path: '(in memory)', layout: 'hf', configFrom: 'given' }, { trainable: true });
}
