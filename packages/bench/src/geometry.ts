// A model's geometry without loading it: blocks, widths and tokens of both towers, from its
// config.json, or for a checkpoint without one from the tensor shapes (a safetensors header
// alone; a PyTorch checkpoint's index). What the plan check and the cost model need.
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  detectLayout,
  inferConfigFromHf,
  readClipConfig,
  readStateDict,
  resolveWeightsPath,
  stripWrapperPrefix,
  visionTokens,
  type ClipConfig,
  type F32Dict,
} from '@ceb/core';

export interface ModelGeometry {
  vision: { numLayers: number; hiddenSize: number; tokens: number; imageSize: number; patchSize: number };
  text: { numLayers: number; hiddenSize: number; maxPositions: number };
  /** Where it was read from, in words. */
  source: string;
}

export function geometryOf(c: ClipConfig, source: string): ModelGeometry {
  const v = c.vision;
  return {
    vision: { numLayers: v.numLayers, hiddenSize: v.hiddenSize, tokens: visionTokens(v), imageSize: v.imageSize, patchSize: v.patchSize },
    text: { numLayers: c.text.numLayers, hiddenSize: c.text.hiddenSize, maxPositions: c.text.maxPositions },
    source,
  };
}

function readBytes(file: string, position: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, position);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Tensor shapes from a safetensors header (the first 8 + n bytes; no tensor data is read). */
function safetensorsShapes(file: string): Map<string, number[]> | undefined {
  const head = readBytes(file, 0, 9);
  if (head.length < 9 || head[8] !== 0x7b) return undefined;
  const n = Number(head.readBigUInt64LE(0));
  if (n < 2 || n > statSync(file).size - 8 || n > 1 << 28) return undefined;
  let header: Record<string, { shape?: unknown }>;
  try {
    header = JSON.parse(readBytes(file, 8, n).toString('utf8'));
  } catch {
    return undefined;
  }
  const shapes = new Map<string, number[]>();
  for (const [k, v] of Object.entries(header)) if (k !== '__metadata__' && Array.isArray(v.shape)) shapes.set(k, v.shape as number[]);
  return shapes;
}

/** The OpenAI names of the tensors the geometry comes from, under their Hugging Face names (shapes only). */
function openaiShapesAsHf(d: F32Dict): F32Dict {
  const out: F32Dict = new Map();
  const copy = (from: string, to: string, transpose = false) => {
    const t = d.get(from);
    if (t) out.set(to, { shape: transpose ? [...t.shape].reverse() : t.shape, data: t.data });
  };
  copy('visual.conv1.weight', 'vision_model.embeddings.patch_embedding.weight');
  copy('visual.positional_embedding', 'vision_model.embeddings.position_embedding.weight');
  copy('token_embedding.weight', 'text_model.embeddings.token_embedding.weight');
  copy('positional_embedding', 'text_model.embeddings.position_embedding.weight');
  copy('visual.proj', 'visual_projection.weight', true);
  copy('visual.transformer.resblocks.0.mlp.c_fc.weight', 'vision_model.encoder.layers.0.mlp.fc1.weight');
  copy('transformer.resblocks.0.mlp.c_fc.weight', 'text_model.encoder.layers.0.mlp.fc1.weight');
  for (const [src, dst] of [['visual.transformer.resblocks.', 'vision_model.encoder.layers.'], ['transformer.resblocks.', 'text_model.encoder.layers.']]) {
    for (let i = 0; d.has(`${src}${i}.attn.in_proj_weight`); i++) copy(`${src}${i}.attn.in_proj_weight`, `${dst}${i}.self_attn.q_proj.weight`);
  }
  return out;
}

/** Geometry from the shapes of a checkpoint's tensors, in either key layout. */
async function geometryFromShapes(weights: string): Promise<ModelGeometry> {
  const header = safetensorsShapes(weights);
  const empty = new Float32Array(0);
  let dict: F32Dict;
  let how: string;
  if (header) {
    dict = new Map([...header].map(([k, shape]) => [k, { shape, data: empty }]));
    how = 'the tensor shapes of its safetensors header';
  } else {
    // A PyTorch checkpoint: its pickled index is read with the file (tensors stay views, nothing is converted).
    const { tensors } = await readStateDict(weights);
    dict = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: empty }]));
    how = 'the tensor shapes of the checkpoint';
  }
  dict = stripWrapperPrefix(dict);
  const hf = detectLayout(dict, weights) === 'openai' ? openaiShapesAsHf(dict) : dict;
  return geometryOf(inferConfigFromHf(hf, weights), `${weights}: ${how} (no config.json beside it)`);
}

/** The geometry of the model at `path` (a Hugging Face folder or a checkpoint file), as loadClip would see it. */
export async function readModelGeometry(path: string): Promise<ModelGeometry> {
  if (!existsSync(path)) throw new Error(`model: ${path} does not exist`);
  // config.json first: it is what loadClip uses, and a folder holding only it is enough here.
  const dir = statSync(path).isDirectory() ? path : dirname(path);
  if (existsSync(join(dir, 'config.json'))) return geometryOf(readClipConfig(dir), join(dir, 'config.json'));
  return geometryFromShapes(resolveWeightsPath(path));
}
