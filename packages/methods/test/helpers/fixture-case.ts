// One case of the fixture's cases.safetensors (pixel values and unpadded ids) as a pair.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import { initBackend, loadClip, PairCache, readSafetensors, toFloat32, type ClipModel, type ExplainContext, type PairInput } from '@ceb/core';
import { CLIP_FIXTURE_DIR } from './fixtures';

export async function fixtureCase(k: number, dir = CLIP_FIXTURE_DIR): Promise<PairInput> {
  const cases = await readSafetensors(join(dir, 'cases.safetensors'));
  const px = cases.tensors.get('pixel_values')!;
  const ids = cases.tensors.get('input_ids')!;
  const [n, c, s] = px.shape;
  if (k >= n) throw new Error(`${dir}/cases.safetensors has ${n} cases, not ${k + 1}`);
  const len = ids.shape[1];
  const size = c * s * s;
  return {
    pixels: tf.tensor4d(toFloat32(px, 'pixel_values').subarray(k * size, (k + 1) * size), [1, c, s, s]),
    ids: Array.from(toFloat32(ids, 'input_ids').subarray(k * len, (k + 1) * len)),
  };
}

/** The fixture model and case k as an explain context; `dispose` frees all three. */
export async function fixtureContext(k: number): Promise<{ model: ClipModel; ctx: ExplainContext; dispose: () => void }> {
  const model = await loadClip(CLIP_FIXTURE_DIR);
  const pair = await fixtureCase(k);
  const cache = new PairCache(model, pair);
  return {
    model,
    ctx: { model, pair, cache },
    dispose: () => {
      pair.pixels.dispose();
      cache.dispose();
      model.dispose();
    },
  };
}

/** Registers hooks that load the fixture model and case k (wasm) before a file's tests and free them after; read `.model` / `.ctx` inside tests. */
export function useFixtureContext(k: number): { model: ClipModel; ctx: ExplainContext } {
  const box = {} as { model: ClipModel; ctx: ExplainContext; dispose?: () => void };
  beforeAll(async () => {
    await initBackend('wasm');
    Object.assign(box, await fixtureContext(k));
  });
  afterAll(() => box.dispose?.());
  return box;
}
