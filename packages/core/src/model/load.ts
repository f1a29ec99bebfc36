// loadClip: a folder (config.json + model.safetensors | pytorch_model.bin) or a single
// checkpoint file (.safetensors / .pt / .bin, HF or OpenAI key layout) → a ClipModel.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readClipConfig, type ClipConfig } from './config';
import { buildClip, type ClipModel, type ModelQuirks } from './clip';
import {
  checkShapes,
  detectLayout,
  inferConfigFromHf,
  openaiToHf,
  stripWrapperPrefix,
  type F32Dict,
  type KeyLayout,
} from './layout';
import { readStateDict } from '../weights/state-dict';
import { toFloat32 } from '../weights/safetensors';

export interface LoadClipOptions {
  /** Use this config instead of config.json / inference. */
  config?: ClipConfig;
  /** Head counts for checkpoints without config.json whose heads are not width / 64. */
  heads?: { vision?: number; text?: number };
  /** Departures from standard CLIP, for parity with code that has them (default: none). */
  quirks?: ModelQuirks;
}

const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin', 'model.pt'];

/** Finds the weights file of a model folder, or returns the path when it is a file. */
export function resolveWeightsPath(path: string): string {
  if (!existsSync(path)) throw new Error(`model not found: ${path} does not exist`);
  if (!statSync(path).isDirectory()) return path;
  for (const f of WEIGHT_FILES) if (existsSync(join(path, f))) return join(path, f);
  throw new Error(`${path}: no weights file (looked for ${WEIGHT_FILES.join(', ')})`);
}

/** Reads a checkpoint into HF-named float32 tensors plus the layout it came in. */
export async function readClipWeights(weightsPath: string): Promise<{ dict: F32Dict; layout: KeyLayout }> {
  const { tensors } = await readStateDict(weightsPath);
  let dict: F32Dict = new Map();
  for (const [k, t] of tensors) dict.set(k, { shape: t.shape, data: toFloat32(t, `${weightsPath}: ${k}`) });
  dict = stripWrapperPrefix(dict);
  const layout = detectLayout(dict, weightsPath);
  return { dict: layout === 'openai' ? openaiToHf(dict, weightsPath) : dict, layout };
}

/**
 * Loads a CLIP model from a Hugging Face folder or a single checkpoint file. The config is,
 * in order: `opts.config`, config.json beside the weights, or geometry inferred from the
 * tensor shapes. Every needed tensor is checked for presence and shape before any is built.
 */
export async function loadClip(path: string, opts: LoadClipOptions = {}): Promise<ClipModel> {
  const weightsPath = resolveWeightsPath(path);
  const { dict, layout } = await readClipWeights(weightsPath);
  const dir = dirname(weightsPath);
  let config: ClipConfig;
  let configFrom: ClipModel['source']['configFrom'];
  if (opts.config) {
    config = opts.config;
    configFrom = 'given';
  } else if (existsSync(join(dir, 'config.json'))) {
    config = readClipConfig(dir);
    configFrom = 'config.json';
  } else {
    config = inferConfigFromHf(dict, weightsPath, opts.heads);
    configFrom = 'inferred';
  }
  checkShapes(dict, config, weightsPath);
  return buildClip(dict, config, { path: weightsPath, layout, configFrom }, { quirks: opts.quirks });
}
