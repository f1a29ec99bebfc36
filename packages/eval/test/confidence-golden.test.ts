// The three confidence metrics against golden values from an independent PyTorch
// implementation of the M2IB and NIB evaluation scripts (tools/golden/confidence_protocols.py,
// written from the scripts; tools/golden/PROTOCOLS.md), on the fixture CLIP: 42 image maps and
// 42 caption score vectors, both image cases, three captions (one with a repeated id).
// Tolerances (measured in the file's metadata: float32 vs float64 of the same computation):
// Y and O 1e-5, drop 1e-3; increase exactly where the golden file does not flag |O − Y| < 1e-5.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadClip, PairCache, readSafetensors, toFloat32, type Attribution, type ClipModel, type TensorFile } from '@ceb/core';
import { confidenceCorrected } from '../src/confidence-corrected';
import { confidenceM2ib } from '../src/confidence-m2ib';
import { confidenceNib } from '../src/confidence-nib';
import type { PairMetric } from '../src/types';
import { CLIP_FIXTURE_DIR } from './helpers/fixtures';

const GOLDEN = fileURLToPath(new URL('./golden/confidence.safetensors', import.meta.url));

/** The golden file's protocol names → the harness metric and params that reproduce each. */
const PROTOCOLS: Record<string, { metric: PairMetric; params: Record<string, string> }> = {
  m2ib: { metric: confidenceM2ib as PairMetric, params: {} },
  m2ib_full: { metric: confidenceM2ib as PairMetric, params: { imageMask: 'full' } },
  nib: { metric: confidenceNib as PairMetric, params: {} },
  corrected: { metric: confidenceCorrected as PairMetric, params: {} },
};

let model: ClipModel;
let gold: TensorFile;
let cases: TensorFile;
const f32 = (t: TensorFile, name: string) => toFloat32(t.tensors.get(name)!, name);
const ids = (k: number) => Array.from(toFloat32(gold.tensors.get(`captions.${k}.ids`)!, 'ids'));

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadClip(CLIP_FIXTURE_DIR);
  gold = await readSafetensors(GOLDEN);
  cases = await readSafetensors(join(CLIP_FIXTURE_DIR, 'cases.safetensors'));
});
afterAll(() => model?.dispose());

/** Runs `fn` with the pair (image case c, caption k) and its cache. */
async function withPair<T>(c: number, k: number, fn: (pair: { pixels: tf.Tensor4D; ids: number[] }, cache: PairCache) => Promise<T>): Promise<T> {
  const s = model.config.vision.imageSize;
  const all = f32(cases, 'pixel_values');
  const pixels = tf.tensor4d(all.subarray(c * 3 * s * s, (c + 1) * 3 * s * s), [1, 3, s, s]);
  const pair = { pixels, ids: ids(k) };
  const cache = new PairCache(model, pair);
  try {
    return await fn(pair, cache);
  } finally {
    cache.dispose();
    pixels.dispose();
  }
}

interface Mismatch {
  where: string;
  what: string;
  got: number;
  want: number;
}

function compare(out: Mismatch[], where: string, r: { values: Record<string, number>; meta?: Record<string, unknown> }, want: { Y: number; O: number; drop: number; increase: number; fragile: number }): void {
  const got = { Y: r.meta!.clean as number, O: r.meta!.explained as number, drop: r.values.drop, increase: r.values.increase };
  if (!(Math.abs(got.Y - want.Y) <= 1e-5)) out.push({ where, what: 'Y', got: got.Y, want: want.Y });
  if (!(Math.abs(got.O - want.O) <= 1e-5)) out.push({ where, what: 'O', got: got.O, want: want.O });
  if (!(Math.abs(got.drop - want.drop) <= 1e-3)) out.push({ where, what: 'drop', got: got.drop, want: want.drop });
  if (!want.fragile && got.increase !== want.increase) out.push({ where, what: 'increase', got: got.increase, want: want.increase });
}

describe.each(Object.keys(PROTOCOLS))('confidence protocol %s', (name) => {
  const { metric, params } = PROTOCOLS[name];

  it('image side: Y, O, drop and increase equal the scripts on 42 maps × 3 captions', async () => {
    const s = model.config.vision.imageSize;
    const maps = gold.tensors.get('image.maps_u8')!;
    const [nCases, nMaps] = maps.shape;
    const u8 = new Uint8Array(maps.data.buffer, maps.data.byteOffset, maps.data.byteLength);
    const at = (key: string) => f32(gold, `image.${name}.${key}`);
    const [Y, O, drop, increase, fragile] = ['Y', 'O', 'drop', 'increase', 'fragile'].map(at);
    const out: Mismatch[] = [];
    for (let c = 0; c < nCases; c++) {
      for (let k = 0; k < 3; k++) {
        await withPair(c, k, async (pair, cache) => {
          for (let m = 0; m < nMaps; m++) {
            const scores = Float32Array.from(u8.subarray((c * nMaps + m) * s * s, (c * nMaps + m + 1) * s * s), (v) => v / 255);
            const attribution: Attribution = { method: 'golden', side: 'image', scores, shape: [s, s], ms: 0 };
            const r = await metric.evaluate({ model, pair, cache, attribution }, params);
            const i = (c * nMaps + m) * 3 + k;
            compare(out, `case ${c}, map ${m}, caption ${k}`, r, { Y: Y[i], O: O[i], drop: drop[i], increase: increase[i], fragile: fragile[i] });
          }
        });
      }
    }
    expect(out).toEqual([]);
  });

  it('text side: Y, O, drop and increase equal the scripts on 42 score vectors × 2 images', async () => {
    const scores = f32(gold, 'text.scores');
    const caption = toFloat32(gold.tensors.get('text.caption')!, 'caption');
    const length = toFloat32(gold.tensors.get('text.length')!, 'length');
    const width = gold.tensors.get('text.scores')!.shape[1];
    const at = (key: string) => f32(gold, `text.${name}.${key}`);
    const [Y, O, drop, increase, fragile] = ['Y', 'O', 'drop', 'increase', 'fragile'].map(at);
    const out: Mismatch[] = [];
    for (let row = 0; row < caption.length; row++) {
      for (let c = 0; c < 2; c++) {
        await withPair(c, caption[row], async (pair, cache) => {
          const s = scores.slice(row * width, row * width + length[row]);
          const attribution: Attribution = { method: 'golden', side: 'text', scores: s, shape: [s.length], ms: 0 };
          const r = await metric.evaluate({ model, pair, cache, attribution }, params);
          const i = row * 2 + c;
          compare(out, `score row ${row}, image ${c}`, r, { Y: Y[i], O: O[i], drop: drop[i], increase: increase[i], fragile: fragile[i] });
        });
      }
    }
    expect(out).toEqual([]);
  });
});
