// Parity quirks (spec/m2ib.md): the chest X-ray wrapper's text tower without the causal
// mask and with the text projection applied twice. Off by default; each checked by a
// property that only it can produce.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend';
import { buildClip, describeQuirks } from '../src/model/clip';
import { readClipConfig } from '../src/model/config';
import { loadClip, readClipWeights, resolveWeightsPath } from '../src/model/load';
import { randomClip } from '../src/model/random-init';
import type { F32Dict } from '../src/model/layout';
import { CLIP_FIXTURE_DIR, maxAbsDiff } from '../src/testing';

let dict: F32Dict;
beforeAll(async () => {
  await initBackend('wasm');
  dict = (await readClipWeights(resolveWeightsPath(CLIP_FIXTURE_DIR))).dict;
});

const source = { path: CLIP_FIXTURE_DIR, layout: 'hf' as const, configFrom: 'config.json' as const };

describe('model quirks', () => {
  it('standard CLIP: tokens after the pooled EOS change nothing; without the causal mask they do', () => {
    const config = readClipConfig(CLIP_FIXTURE_DIR);
    const { bosTokenId: bos, eosTokenId: eos } = config.text;
    const short = [[bos, 320, 321, eos]];
    const padded = [[bos, 320, 321, eos, 322, 323]]; // pooled at the EOS (the largest id) either way
    const standard = buildClip(dict, config, source);
    const bidirectional = buildClip(dict, config, source, { quirks: { textCausalMask: false } });
    try {
      const [a, b] = [standard.encodeText(short), standard.encodeText(padded)];
      expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBeLessThan(1e-5);
      const [c, d] = [bidirectional.encodeText(short), bidirectional.encodeText(padded)];
      expect(maxAbsDiff(c.dataSync(), d.dataSync())).toBeGreaterThan(1e-3);
      // The image tower never had a mask: unchanged.
      const s = config.vision.imageSize;
      const px = tf.randomNormal([1, 3, s, s], 0, 1, 'float32', 3) as tf.Tensor4D;
      expect(maxAbsDiff(standard.encodeImage(px).dataSync(), bidirectional.encodeImage(px).dataSync())).toBe(0);
      tf.dispose([a, b, c, d, px]);
    } finally {
      standard.dispose();
      bidirectional.dispose();
    }
  });

  it('the projection applied twice is the standard embedding times the projection again', () => {
    // Square projection: text width = projection_dim = 32.
    const cfg = {
      projection_dim: 32,
      text_config: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 600, max_position_embeddings: 16 },
      vision_config: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, image_size: 32, patch_size: 16 },
    };
    const once = randomClip(cfg, 5);
    const twice = randomClip(cfg, 5, { quirks: { textProjectionTwice: true } });
    try {
      const ids = [[598, 300, 301, 599], [598, 302, 599, 599]];
      const expected = tf.matMul(once.encodeText(ids), once.params.get('text_projection.weight') as tf.Tensor2D, false, true);
      const got = twice.encodeText(ids);
      expect(maxAbsDiff(got.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
      expect(maxAbsDiff(got.dataSync(), once.encodeText(ids).dataSync())).toBeGreaterThan(1e-4);
      expect(twice.quirks).toEqual({ textProjectionTwice: true });
      tf.dispose([expected, got]);
    } finally {
      once.dispose();
      twice.dispose();
    }
  });

  it('refuses to apply a non-square projection twice, naming its shape', async () => {
    await expect(loadClip(CLIP_FIXTURE_DIR, { quirks: { textProjectionTwice: true } })).rejects.toThrow(/text_projection is 32×64.*square/);
  });

  it('are described in words, and none for a standard model', () => {
    expect(describeQuirks({})).toEqual([]);
    expect(describeQuirks({ textCausalMask: true, textProjectionTwice: false })).toEqual([]);
    expect(describeQuirks({ textCausalMask: false, textProjectionTwice: true })).toEqual(['text tower without the causal mask', 'text projection applied twice']);
  });
});
