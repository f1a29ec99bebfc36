// The worker pool on the fixture CLIP: a worker's replica and copied pair cache give the
// same targets as this thread; a worker that dies fails the call it was in and the next
// call gets a fresh worker; memory that would not hold the replicas is refused with a reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend';
import { loadClip } from '../src/model/load';
import type { ClipModel } from '../src/model/clip';
import { PairCache } from '../src/explain/pair-cache';
import { scorePixelMasks } from '../src/explain/target';
import { checkPoolMemory, injectPoolFault, pooledScores, scorePixelMasksTask, splitRuns, WorkerPool, workerBytes } from '../src/pool';
import { Rng } from '@ceb/random';
import { CLIP_FIXTURE_DIR } from './helpers/fixtures';

let model: ClipModel;
let pool: WorkerPool;
let cache: PairCache;
let masks: Float32Array;
const N = 7;

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadClip(CLIP_FIXTURE_DIR);
  const s = model.config.vision.imageSize;
  const pixels = tf.tensor4d(new Rng(1).normals(3 * s * s, 1), [1, 3, s, s]);
  cache = new PairCache(model, { pixels, ids: [model.config.text.bosTokenId, 320, 321, model.config.text.eosTokenId] });
  const rng = new Rng(2);
  masks = Float32Array.from({ length: N * s * s }, () => (rng.next() < 0.5 ? 1 : 0));
  pool = await WorkerPool.start(model, { threads: 2 });
});
afterAll(async () => {
  await pool?.close();
  for (const owned of [cache?.pair.pixels, cache, model]) owned?.dispose();
});

describe('splitRuns', () => {
  it('cuts n items into contiguous, nearly equal runs that cover them once', () => {
    expect(splitRuns(10, 3)).toEqual([[0, 4], [4, 3], [7, 3]]);
    expect(splitRuns(1, 4)).toEqual([[0, 1]]);
    expect(splitRuns(0, 2)).toEqual([]);
  });
});

describe('WorkerPool', () => {
  it('a worker scores masked inputs exactly as this thread does', async () => {
    const s = model.config.vision.imageSize;
    const alone = await scorePixelMasks(cache, masks, N, 3);
    const shared = await pooledScores(pool, cache, scorePixelMasksTask, masks, N, s * s, { batch: 3 });
    // Rows are independent and each thread runs the same kernels: equal to the last bit.
    expect(Array.from(shared)).toEqual(Array.from(alone));
  });

  it('a worker killed mid-call fails that call, and the next call runs on a fresh worker', async () => {
    const s = model.config.vision.imageSize;
    injectPoolFault({ atTask: 1 });
    const before = pool.restarts;
    // The fault counts tasks handed out from now on.
    await expect(pooledScores(pool, cache, scorePixelMasksTask, masks, N, s * s, { batch: 3 })).rejects.toThrow(/pool worker 1 of 1 stopped .*scorePixelMasksTask; a fresh worker starts/);
    const again = await pooledScores(pool, cache, scorePixelMasksTask, masks, N, s * s, { batch: 3 });
    expect(pool.restarts).toBe(before + 1);
    expect(Array.from(again)).toEqual(Array.from(await scorePixelMasks(cache, masks, N, 3)));
  });

  it('closing the pool fails a call in flight instead of leaving it waiting', async () => {
    const s = model.config.vision.imageSize;
    const fresh = await WorkerPool.start(model, { threads: 2 });
    const call = pooledScores(fresh, cache, scorePixelMasksTask, masks, N, s * s, { batch: 3 });
    const failed = expect(call).rejects.toThrow(/the pool was closed|the worker pool is closed/);
    await fresh.close();
    await failed;
  });

  it('a worker that cannot start its backend fails the start with the backend\'s reason', async () => {
    // tfjs-node is an optional download; where it is installed this case has nothing to show.
    if (await import(/* @vite-ignore */ ['@tensorflow', 'tfjs-node'].join('/')).then(() => true, () => false)) return;
    await expect(WorkerPool.start(model, { threads: 2, backend: 'tfjs-node' })).rejects.toThrow(/pool worker 1 of 1 stopped \(backend "tfjs-node" is not available: @tensorflow\/tfjs-node is not installed/);
  });

  it('refuses more workers than memory holds, naming the sizes and what fits', () => {
    const each = workerBytes(model);
    expect(() => checkPoolMemory(model, 3, 2.5 * each)).toThrow(/--threads 4: 3 pool workers would need .* use --threads 3 or fewer/);
    expect(() => checkPoolMemory(model, 2, 2.5 * each)).not.toThrow();
  });
});
