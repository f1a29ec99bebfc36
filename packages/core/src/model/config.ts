// Hugging Face CLIPConfig, with the defaults Hugging Face applies when a key is absent.
import { existsSync, readFileSync } from 'node:fs';
import { CLIP_MEAN, CLIP_STD } from '../image/preprocess';

export type Activation = 'quick_gelu' | 'gelu' | 'gelu_new' | 'relu';
const ACTIVATIONS: readonly Activation[] = ['quick_gelu', 'gelu', 'gelu_new', 'relu'];

export interface TextConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  maxPositions: number;
  act: Activation;
  layerNormEps: number;
  bosTokenId: number;
  eosTokenId: number;
  padTokenId: number;
}

export interface VisionConfig {
  imageSize: number;
  patchSize: number;
  numChannels: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  act: Activation;
  layerNormEps: number;
}

export interface ClipConfig {
  text: TextConfig;
  vision: VisionConfig;
  projectionDim: number;
  logitScaleInit: number;
  /** Preprocessing normalisation (CLIP's unless preprocessor_config.json says otherwise). */
  imageMean: readonly [number, number, number];
  imageStd: readonly [number, number, number];
}

type Json = Record<string, unknown>;

function pick(obj: Json, key: string, fallback: number, where: string): number {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new Error(`${where}.${key}: expected a number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function pickAct(obj: Json, where: string): Activation {
  const v = obj.hidden_act ?? 'quick_gelu';
  if (typeof v !== 'string' || !ACTIVATIONS.includes(v as Activation)) {
    throw new Error(`${where}.hidden_act: expected one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as Activation;
}

/** Parses a CLIPConfig object (config.json contents); `where` names the file in errors. */
export function parseClipConfig(json: Json, where = 'config.json'): ClipConfig {
  // Old files carry text_config_dict / vision_config_dict; HF reads either.
  const t = (json.text_config ?? json.text_config_dict ?? {}) as Json;
  const v = (json.vision_config ?? json.vision_config_dict ?? {}) as Json;
  const tw = `${where}: text_config`;
  const vw = `${where}: vision_config`;
  const text: TextConfig = {
    vocabSize: pick(t, 'vocab_size', 49408, tw),
    hiddenSize: pick(t, 'hidden_size', 512, tw),
    intermediateSize: pick(t, 'intermediate_size', 2048, tw),
    numLayers: pick(t, 'num_hidden_layers', 12, tw),
    numHeads: pick(t, 'num_attention_heads', 8, tw),
    maxPositions: pick(t, 'max_position_embeddings', 77, tw),
    act: pickAct(t, tw),
    layerNormEps: pick(t, 'layer_norm_eps', 1e-5, tw),
    bosTokenId: pick(t, 'bos_token_id', 49406, tw),
    eosTokenId: pick(t, 'eos_token_id', 49407, tw),
    padTokenId: pick(t, 'pad_token_id', 1, tw),
  };
  const vision: VisionConfig = {
    imageSize: pick(v, 'image_size', 224, vw),
    patchSize: pick(v, 'patch_size', 32, vw),
    numChannels: pick(v, 'num_channels', 3, vw),
    hiddenSize: pick(v, 'hidden_size', 768, vw),
    intermediateSize: pick(v, 'intermediate_size', 3072, vw),
    numLayers: pick(v, 'num_hidden_layers', 12, vw),
    numHeads: pick(v, 'num_attention_heads', 12, vw),
    act: pickAct(v, vw),
    layerNormEps: pick(v, 'layer_norm_eps', 1e-5, vw),
  };
  for (const [name, cfg] of [['text_config', text], ['vision_config', vision]] as const) {
    if (cfg.hiddenSize % cfg.numHeads !== 0) {
      throw new Error(`${where}: ${name}.hidden_size ${cfg.hiddenSize} is not divisible by num_attention_heads ${cfg.numHeads}`);
    }
  }
  if (vision.imageSize % vision.patchSize !== 0) {
    throw new Error(`${where}: vision_config.image_size ${vision.imageSize} is not a multiple of patch_size ${vision.patchSize}`);
  }
  return {
    text,
    vision,
    projectionDim: pick(json, 'projection_dim', 512, where),
    logitScaleInit: pick(json, 'logit_scale_init_value', 2.6592, where),
    imageMean: CLIP_MEAN,
    imageStd: CLIP_STD,
  };
}

/** Reads `config.json` (and `preprocessor_config.json` for mean/std, when present) from a model folder. */
export function readClipConfig(dir: string): ClipConfig {
  const file = `${dir}/config.json`;
  if (!existsSync(file)) throw new Error(`${file} not found: a Hugging Face CLIP folder needs config.json`);
  let json: Json;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const config = parseClipConfig(json, file);
  const pre = `${dir}/preprocessor_config.json`;
  if (existsSync(pre)) {
    const p = JSON.parse(readFileSync(pre, 'utf8')) as Json;
    const triple = (x: unknown): x is [number, number, number] =>
      Array.isArray(x) && x.length === 3 && x.every((n) => typeof n === 'number');
    if (triple(p.image_mean)) config.imageMean = p.image_mean;
    if (triple(p.image_std)) config.imageStd = p.image_std;
  }
  return config;
}

/** Number of vision tokens: the patch grid plus CLS. */
export function visionTokens(v: VisionConfig): number {
  const g = v.imageSize / v.patchSize;
  return g * g + 1;
}
