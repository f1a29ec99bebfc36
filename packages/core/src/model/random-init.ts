// A randomly initialised CLIP of any geometry, built in memory (for benchmarks and tests
// that need the real ViT-B/32 sizes without its weights).
import { Rng } from '@ceb/random';
import { buildClip, type BuildOptions, type ClipModel } from './clip';
import { parseClipConfig, type ClipConfig } from './config';
import { expectedShapes, type F32Dict } from './layout';

/** openai/clip-vit-base-patch32 geometry, as its config.json states it. */
export const VIT_B32_CONFIG = {
  projection_dim: 512,
  text_config: { hidden_size: 512, intermediate_size: 2048, num_hidden_layers: 12, num_attention_heads: 8, vocab_size: 49408, max_position_embeddings: 77 },
  vision_config: { hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12, image_size: 224, patch_size: 32 },
};

/** HF-named random weights for a config: LayerNorm 1/0, everything else N(0, 0.02²). */
export function randomClipWeights(config: ClipConfig, seed = 0): F32Dict {
  const dict: F32Dict = new Map();
  let k = 0;
  for (const [name, shape] of expectedShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name === 'logit_scale') data = Float32Array.of(Math.log(100));
    else if (/norm|layrnorm/.test(name)) data = new Float32Array(n).fill(name.endsWith('.weight') ? 1 : 0);
    else data = new Rng(seed * 1000 + k++).normals(n, 0.02);
    dict.set(name, { shape, data });
  }
  return dict;
}

/** A random CLIP for a config.json-shaped object (default: ViT-B/32). */
export function randomClip(configJson: Record<string, unknown> = VIT_B32_CONFIG, seed = 0, opts: BuildOptions = {}): ClipModel {
  const config = parseClipConfig(configJson, 'random model config');
  return buildClip(randomClipWeights(config, seed), config, { path: '(random weights in memory)', layout: 'hf', configFrom: 'given' }, opts);
}
