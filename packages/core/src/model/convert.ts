// `convert`: any checkpoint loadClip reads → a Hugging Face folder (config.json,
// model.safetensors with HF key names, tokenizer files), which every HF tool also reads.
import { copyFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ClipConfig } from './config';
import { readClipConfig } from './config';
import { checkShapes, expectedShapes, inferConfigFromHf } from './layout';
import { readClipWeights, resolveWeightsPath } from './load';
import { writeSafetensors } from '../weights/safetensors';
import { ClipTokenizer, standardVocabDir } from '../tokenizer';

/** A ClipConfig as Hugging Face's config.json writes it. */
export function clipConfigToJson(cfg: ClipConfig): Record<string, unknown> {
  const { text: t, vision: v } = cfg;
  return {
    architectures: ['CLIPModel'],
    model_type: 'clip',
    projection_dim: cfg.projectionDim,
    logit_scale_init_value: cfg.logitScaleInit,
    text_config: {
      model_type: 'clip_text_model',
      vocab_size: t.vocabSize,
      hidden_size: t.hiddenSize,
      intermediate_size: t.intermediateSize,
      num_hidden_layers: t.numLayers,
      num_attention_heads: t.numHeads,
      max_position_embeddings: t.maxPositions,
      hidden_act: t.act,
      layer_norm_eps: t.layerNormEps,
      bos_token_id: t.bosTokenId,
      eos_token_id: t.eosTokenId,
      pad_token_id: t.padTokenId,
      projection_dim: cfg.projectionDim,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      image_size: v.imageSize,
      patch_size: v.patchSize,
      num_channels: v.numChannels,
      hidden_size: v.hiddenSize,
      intermediate_size: v.intermediateSize,
      num_hidden_layers: v.numLayers,
      num_attention_heads: v.numHeads,
      hidden_act: v.act,
      layer_norm_eps: v.layerNormEps,
      projection_dim: cfg.projectionDim,
    },
  };
}

export interface ConvertResult {
  outDir: string;
  layout: 'hf' | 'openai';
  configFrom: 'config.json' | 'inferred';
  tokenizer: string;
  tensors: number;
}

/**
 * Writes `outDir` as a Hugging Face CLIP folder. The config comes from a config.json beside
 * the input, else from the tensor shapes (`heads` overrides the width/64 head convention).
 * Tokenizer files come from beside the input, else the bundled standard vocabulary.
 */
export async function convertCheckpoint(input: string, outDir: string, opts: { heads?: { vision?: number; text?: number } } = {}): Promise<ConvertResult> {
  const weightsPath = resolveWeightsPath(input);
  const srcDir = statSync(input).isDirectory() ? input : dirname(weightsPath);
  const { dict, layout } = await readClipWeights(weightsPath);
  const hasConfig = existsSync(join(srcDir, 'config.json'));
  const config = hasConfig ? readClipConfig(srcDir) : inferConfigFromHf(dict, weightsPath, opts.heads);
  checkShapes(dict, config, weightsPath);
  mkdirSync(outDir, { recursive: true });
  const tensors = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
  for (const [name, shape] of expectedShapes(config)) {
    tensors.set(name, { dtype: 'F32', shape, data: dict.get(name)!.data });
  }
  await writeSafetensors(join(outDir, 'model.safetensors'), tensors, { format: 'pt', converted_from: weightsPath, key_layout: layout });
  writeFileSync(join(outDir, 'config.json'), JSON.stringify(clipConfigToJson(config), null, 2) + '\n');
  const tok = ClipTokenizer.fromModelDir(srcDir);
  let tokenizer: string;
  if (tok.source.kind === 'tokenizer.json') {
    copyFileSync(tok.source.path, join(outDir, 'tokenizer.json'));
    tokenizer = tok.source.path;
  } else {
    const from = tok.source.kind === 'files' ? srcDir : standardVocabDir();
    for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(from, f), join(outDir, f));
    tokenizer = tok.source.kind === 'files' ? from : 'the bundled standard CLIP vocabulary';
  }
  return { outDir, layout, configFrom: hasConfig ? 'config.json' : 'inferred', tokenizer, tensors: tensors.size };
}
