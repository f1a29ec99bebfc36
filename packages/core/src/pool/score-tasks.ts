// The batched targets of explain/target.ts as pool tasks: a batch of n perturbed inputs is
// cut into one contiguous run per thread and each thread scores its run with the same code
// and batch size as one thread would. Rows are independent, so the scores are the same.
import { scoreImages, scorePixelMasks, scoreTokenScales } from '../explain/target';
import type { PairCache } from '../explain/pair-cache';
import type { WorkerPool } from './pool';
import { defineTask, splitRuns, type PoolTask } from './task';

interface RowsInput {
  rows: Float32Array;
  n: number;
  batch: number;
  /** Token ids, for token-scale rows. */
  ids?: number[];
}

export const scorePixelMasksTask = defineTask(import.meta.url, 'scorePixelMasksTask', (ctx, i: RowsInput) => scorePixelMasks(ctx.cache, i.rows, i.n, i.batch));
export const scoreTokenScalesTask = defineTask(import.meta.url, 'scoreTokenScalesTask', (ctx, i: RowsInput) => scoreTokenScales(ctx.cache, i.ids!, i.rows, i.n, i.batch));
export const scoreImagesTask = defineTask(import.meta.url, 'scoreImagesTask', (ctx, i: RowsInput) => scoreImages(ctx.cache, i.rows, i.n, i.batch));

/**
 * Scores `n` rows of `rowSize` values with `task`, shared out over the pool when there is one
 * of several threads, else on this thread; the scores in row order.
 */
export async function pooledScores(
  pool: WorkerPool | undefined,
  cache: PairCache,
  task: PoolTask<RowsInput, Float32Array>,
  rows: Float32Array,
  n: number,
  rowSize: number,
  opts: { batch: number; ids?: number[] },
): Promise<Float32Array> {
  if (rows.length < n * rowSize) throw new Error(`${task.name}: ${n} rows of ${rowSize} values need ${n * rowSize}, got ${rows.length}`);
  const input = (r: Float32Array, count: number) => ({ rows: r, n: count, batch: opts.batch, ...(opts.ids ? { ids: opts.ids } : {}) });
  if (!pool || pool.threads < 2) return task.run({ model: cache.model, cache }, input(rows, n));
  const runs = splitRuns(n, pool.threads);
  const inputs = runs.map(([start, count]) => input(rows.slice(start * rowSize, (start + count) * rowSize), count));
  const parts = await pool.map(cache, task, inputs);
  const out = new Float32Array(n);
  runs.forEach(([start], k) => out.set(parts[k], start));
  return out;
}
