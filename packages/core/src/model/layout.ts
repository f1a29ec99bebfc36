// Key layouts of CLIP checkpoints. Everything is brought to Hugging Face names, so one
// builder serves HF folders, OpenAI state dicts (`visual.transformer.resblocks.N…`) and
// wrapped / `module.`-prefixed variants of both.
import { parseClipConfig, type ClipConfig } from './config';

export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}
export type F32Dict = Map<string, F32Tensor>;
export type KeyLayout = 'hf' | 'openai';

/** Drops a common `module.` (DataParallel) or `model.` wrapper prefix if every key has it. */
export function stripWrapperPrefix(dict: F32Dict): F32Dict {
  for (const prefix of ['module.', 'model.']) {
    const keys = [...dict.keys()];
    if (keys.length && keys.every((k) => k.startsWith(prefix))) {
      return stripWrapperPrefix(new Map(keys.map((k) => [k.slice(prefix.length), dict.get(k)!])));
    }
  }
  return dict;
}

export function detectLayout(dict: F32Dict, file = 'checkpoint'): KeyLayout {
  if (dict.has('vision_model.embeddings.patch_embedding.weight')) return 'hf';
  if (dict.has('visual.conv1.weight')) return 'openai';
  const sample = [...dict.keys()].slice(0, 5).join(', ');
  throw new Error(
    `${file}: not a CLIP checkpoint in a known key layout (looked for "vision_model.embeddings.patch_embedding.weight" (Hugging Face) or "visual.conv1.weight" (OpenAI)); first keys: ${sample}`,
  );
}

function need(dict: F32Dict, key: string, file: string): F32Tensor {
  const t = dict.get(key);
  if (!t) throw new Error(`${file}: missing tensor "${key}"`);
  return t;
}

function transpose2d(t: F32Tensor): F32Tensor {
  const [r, c] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return { shape: [c, r], data: out };
}

/** Rows [from, to) of a [R, …] tensor. */
function rows(t: F32Tensor, from: number, to: number): F32Tensor {
  const inner = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return { shape: [to - from, ...t.shape.slice(1)], data: t.data.slice(from * inner, to * inner) };
}

function countBlocks(dict: F32Dict, prefix: string): number {
  let n = 0;
  while (dict.has(`${prefix}${n}.attn.in_proj_weight`) || dict.has(`${prefix}${n}.self_attn.q_proj.weight`)) n++;
  return n;
}

/** Maps an OpenAI-layout state dict onto Hugging Face key names (splitting q;k;v, transposing projections). */
export function openaiToHf(dict: F32Dict, file = 'checkpoint'): F32Dict {
  const out: F32Dict = new Map();
  const copy = (from: string, to: string) => out.set(to, need(dict, from, file));
  const towers = [
    { src: 'visual.transformer.resblocks.', dst: 'vision_model.encoder.layers.' },
    { src: 'transformer.resblocks.', dst: 'text_model.encoder.layers.' },
  ];
  for (const { src, dst } of towers) {
    const n = countBlocks(dict, src);
    for (let i = 0; i < n; i++) {
      const s = `${src}${i}.`;
      const d = `${dst}${i}.`;
      const inW = need(dict, `${s}attn.in_proj_weight`, file);
      const inB = need(dict, `${s}attn.in_proj_bias`, file);
      const width = inW.shape[1];
      if (inW.shape[0] !== 3 * width) {
        throw new Error(`${file}: tensor "${s}attn.in_proj_weight" has shape [${inW.shape}], expected [${3 * width}, ${width}] (q;k;v stacked)`);
      }
      ['q', 'k', 'v'].forEach((name, j) => {
        out.set(`${d}self_attn.${name}_proj.weight`, rows(inW, j * width, (j + 1) * width));
        out.set(`${d}self_attn.${name}_proj.bias`, rows(inB, j * width, (j + 1) * width));
      });
      copy(`${s}attn.out_proj.weight`, `${d}self_attn.out_proj.weight`);
      copy(`${s}attn.out_proj.bias`, `${d}self_attn.out_proj.bias`);
      for (const p of ['weight', 'bias']) {
        copy(`${s}ln_1.${p}`, `${d}layer_norm1.${p}`);
        copy(`${s}ln_2.${p}`, `${d}layer_norm2.${p}`);
        copy(`${s}mlp.c_fc.${p}`, `${d}mlp.fc1.${p}`);
        copy(`${s}mlp.c_proj.${p}`, `${d}mlp.fc2.${p}`);
      }
    }
  }
  copy('visual.conv1.weight', 'vision_model.embeddings.patch_embedding.weight');
  copy('visual.class_embedding', 'vision_model.embeddings.class_embedding');
  copy('visual.positional_embedding', 'vision_model.embeddings.position_embedding.weight');
  for (const p of ['weight', 'bias']) {
    copy(`visual.ln_pre.${p}`, `vision_model.pre_layrnorm.${p}`);
    copy(`visual.ln_post.${p}`, `vision_model.post_layernorm.${p}`);
    copy(`ln_final.${p}`, `text_model.final_layer_norm.${p}`);
  }
  // OpenAI applies these as x @ proj; HF stores the Linear weight, its transpose.
  out.set('visual_projection.weight', transpose2d(need(dict, 'visual.proj', file)));
  out.set('text_projection.weight', transpose2d(need(dict, 'text_projection', file)));
  copy('token_embedding.weight', 'text_model.embeddings.token_embedding.weight');
  copy('positional_embedding', 'text_model.embeddings.position_embedding.weight');
  copy('logit_scale', 'logit_scale');
  return out;
}

/**
 * Geometry from tensor shapes, for checkpoints without config.json (as OpenAI's loader does).
 * Head counts cannot be read from shapes: OpenAI's convention is width / 64; pass `heads`
 * to override when a model differs.
 */
export function inferConfigFromHf(dict: F32Dict, file = 'checkpoint', heads?: { vision?: number; text?: number }): ClipConfig {
  const patch = need(dict, 'vision_model.embeddings.patch_embedding.weight', file);
  const vpos = need(dict, 'vision_model.embeddings.position_embedding.weight', file);
  const tok = need(dict, 'text_model.embeddings.token_embedding.weight', file);
  const tpos = need(dict, 'text_model.embeddings.position_embedding.weight', file);
  const vproj = need(dict, 'visual_projection.weight', file);
  const vfc1 = need(dict, 'vision_model.encoder.layers.0.mlp.fc1.weight', file);
  const tfc1 = need(dict, 'text_model.encoder.layers.0.mlp.fc1.weight', file);
  const grid = Math.round(Math.sqrt(vpos.shape[0] - 1));
  if (grid * grid + 1 !== vpos.shape[0]) {
    throw new Error(`${file}: vision position embedding has ${vpos.shape[0]} rows, not a square patch grid + CLS`);
  }
  const vWidth = patch.shape[0];
  const tWidth = tok.shape[1];
  return parseClipConfig(
    {
      projection_dim: vproj.shape[0],
      vision_config: {
        hidden_size: vWidth,
        intermediate_size: vfc1.shape[0],
        num_hidden_layers: countBlocks(dict, 'vision_model.encoder.layers.'),
        num_attention_heads: heads?.vision ?? Math.max(1, vWidth / 64),
        patch_size: patch.shape[3],
        image_size: patch.shape[3] * grid,
        num_channels: patch.shape[1],
      },
      text_config: {
        hidden_size: tWidth,
        intermediate_size: tfc1.shape[0],
        num_hidden_layers: countBlocks(dict, 'text_model.encoder.layers.'),
        num_attention_heads: heads?.text ?? Math.max(1, tWidth / 64),
        vocab_size: tok.shape[0],
        max_position_embeddings: tpos.shape[0],
        // OpenAI's vocabulary puts BOS/EOS at the top two ids.
        bos_token_id: tok.shape[0] - 2,
        eos_token_id: tok.shape[0] - 1,
        pad_token_id: tok.shape[0] - 1,
      },
    },
    `${file} (inferred from tensor shapes)`,
  );
}

/** Expected shape of every HF tensor the model uses, for a given config. */
export function expectedShapes(cfg: ClipConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const { vision: v, text: t, projectionDim: p } = cfg;
  const g = v.imageSize / v.patchSize;
  shapes.set('vision_model.embeddings.patch_embedding.weight', [v.hiddenSize, v.numChannels, v.patchSize, v.patchSize]);
  shapes.set('vision_model.embeddings.class_embedding', [v.hiddenSize]);
  shapes.set('vision_model.embeddings.position_embedding.weight', [g * g + 1, v.hiddenSize]);
  for (const n of ['pre_layrnorm', 'post_layernorm']) {
    shapes.set(`vision_model.${n}.weight`, [v.hiddenSize]);
    shapes.set(`vision_model.${n}.bias`, [v.hiddenSize]);
  }
  shapes.set('visual_projection.weight', [p, v.hiddenSize]);
  shapes.set('text_model.embeddings.token_embedding.weight', [t.vocabSize, t.hiddenSize]);
  shapes.set('text_model.embeddings.position_embedding.weight', [t.maxPositions, t.hiddenSize]);
  shapes.set('text_model.final_layer_norm.weight', [t.hiddenSize]);
  shapes.set('text_model.final_layer_norm.bias', [t.hiddenSize]);
  shapes.set('text_projection.weight', [p, t.hiddenSize]);
  shapes.set('logit_scale', []);
  for (const [prefix, c] of [['vision_model', v], ['text_model', t]] as const) {
    for (let i = 0; i < c.numLayers; i++) {
      const b = `${prefix}.encoder.layers.${i}.`;
      for (const n of ['q', 'k', 'v', 'out']) {
        shapes.set(`${b}self_attn.${n}_proj.weight`, [c.hiddenSize, c.hiddenSize]);
        shapes.set(`${b}self_attn.${n}_proj.bias`, [c.hiddenSize]);
      }
      for (const n of ['layer_norm1', 'layer_norm2']) {
        shapes.set(`${b}${n}.weight`, [c.hiddenSize]);
        shapes.set(`${b}${n}.bias`, [c.hiddenSize]);
      }
      shapes.set(`${b}mlp.fc1.weight`, [c.intermediateSize, c.hiddenSize]);
      shapes.set(`${b}mlp.fc1.bias`, [c.intermediateSize]);
      shapes.set(`${b}mlp.fc2.weight`, [c.hiddenSize, c.intermediateSize]);
      shapes.set(`${b}mlp.fc2.bias`, [c.hiddenSize]);
    }
  }
  return shapes;
}

/**
 * Checks that every tensor the config needs is present with the right shape; an error names
 * the tensor and both shapes. Extra tensors (e.g. HF's `position_ids` buffers) are ignored.
 */
export function checkShapes(dict: F32Dict, cfg: ClipConfig, file = 'checkpoint'): void {
  for (const [key, shape] of expectedShapes(cfg)) {
    const t = dict.get(key);
    if (!t) throw new Error(`${file}: missing tensor "${key}" (expected shape [${shape}])`);
    // A 0-d logit_scale is sometimes saved as [1].
    const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    const scalarAsOne = shape.length === 0 && t.data.length === 1;
    if (!same && !scalarAsOne) {
      throw new Error(`${file}: tensor "${key}" has shape [${t.shape}], expected [${shape}] from the config`);
    }
  }
}
