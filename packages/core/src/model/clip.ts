// The CLIP model object: two towers, the logit scale, and the encoders built from them.
import * as tf from '@tensorflow/tfjs-core';
import type { ClipConfig } from './config';
import { Block } from './block';
import { fastLinear, layerNorm } from './layers';
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
  dispose(): void;
}

function tensorFrom(dict: F32Dict, key: string): tf.Tensor {
  const t = dict.get(key)!;
  return tf.tensor(t.data, t.shape);
}

/** Builds the model from HF-named float32 tensors whose shapes were checked against `config`. */
export function buildClip(dict: F32Dict, config: ClipConfig, source: ClipModel['source']): ClipModel {
  const linear = (prefix: string, bias = true) =>
    fastLinear(tensorFrom(dict, `${prefix}.weight`) as tf.Tensor2D, bias ? (tensorFrom(dict, `${prefix}.bias`) as tf.Tensor1D) : undefined);
  const norm = (prefix: string, eps: number) =>
    layerNorm(tensorFrom(dict, `${prefix}.weight`) as tf.Tensor1D, tensorFrom(dict, `${prefix}.bias`) as tf.Tensor1D, eps);
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
  const patchW = dict.get('vision_model.embeddings.patch_embedding.weight')!;
  const vision = new VisionTower(
    v,
    {
      // The conv kernel [D, C, p, p] read as a linear map over flattened patches [D, C·p·p].
      patch: fastLinear(tf.tensor2d(patchW.data, [patchW.shape[0], patchW.data.length / patchW.shape[0]])),
      classEmbedding: tensorFrom(dict, 'vision_model.embeddings.class_embedding') as tf.Tensor1D,
      positionEmbedding: tensorFrom(dict, 'vision_model.embeddings.position_embedding.weight') as tf.Tensor2D,
      preNorm: norm('vision_model.pre_layrnorm', v.layerNormEps),
      postNorm: norm('vision_model.post_layernorm', v.layerNormEps),
      projection: linear('visual_projection', false),
    },
    blocks('vision_model', v.numLayers, v.numHeads, v.layerNormEps, v.act),
  );
  const t = config.text;
  const text = new TextTower(
    t,
    {
      tokenEmbedding: tensorFrom(dict, 'text_model.embeddings.token_embedding.weight') as tf.Tensor2D,
      positionEmbedding: tensorFrom(dict, 'text_model.embeddings.position_embedding.weight') as tf.Tensor2D,
      finalNorm: norm('text_model.final_layer_norm', t.layerNormEps),
      projection: linear('text_projection', false),
    },
    blocks('text_model', t.numLayers, t.numHeads, t.layerNormEps, t.act),
  );
  const logitScale = Math.exp(dict.get('logit_scale')?.data[0] ?? config.logitScaleInit);
  return {
    vision,
    text,
    config,
    logitScale,
    source,
    encodeImage: (pixels) => tf.tidy(() => vision.head(vision.runBlocks(vision.embed(pixels)).h)),
    encodeText: (ids) => tf.tidy(() => text.head(text.runBlocks(text.embed(ids)).h, ids)),
    dispose: () => {
      vision.dispose();
      text.dispose();
    },
  };
}
