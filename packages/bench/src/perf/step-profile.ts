// Where one pooled M2IB step's time goes (bench:perf reports it beside the speed-up): the
// noise draw on the main thread, one thread's share computed alone, all copies on one thread,
// and the whole step shared over the pool (the share plus what the hand-off costs).
import { PairCache, splitRuns, type ClipModel, type PairInput, type WorkerPool } from '@ceb/core';
import { m2ibPartialStep, seededNoise } from '@ceb/methods';

export interface StepProfile {
  /** Drawing the step's noise [copies, L, D] and reading it out (main thread). */
  noiseDrawMs: number;
  /** All copies' forward + backward on one thread. */
  oneThreadStepMs: number;
  /** The largest share's forward + backward, on the main thread alone. */
  largestShareMs: number;
  /** The step on the pool: every share at once, results back. */
  pooledStepMs: number;
  /** pooledStepMs − largestShareMs: the hand-off, and the share threads slowing each other. */
  overheadMs: number;
  /** CPU time of the process (every thread) for the one-thread step and for the pooled step: equal when the pool adds no work. */
  oneThreadStepCpuMs: number;
  pooledStepCpuMs: number;
  /** What the pooled step would take on idle cores: its CPU time ÷ threads, or the largest share if longer. */
  idleCoresStepMs: number;
}

/** Median wall and process CPU milliseconds of `repeat` calls after a warm-up. */
async function median(repeat: number, f: () => Promise<unknown> | unknown): Promise<{ wall: number; cpu: number }> {
  await f();
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < Math.max(1, repeat); i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { wall: mid(walls), cpu: mid(cpus) };
}

/** One image-side step of M2IB at `opts`, taken apart. */
export async function profileM2ibStep(model: ClipModel, pair: PairInput, pool: WorkerPool, opts: { layer: number; copies: number; seed: number }, repeat: number): Promise<StepProfile> {
  const cache = new PairCache(model, pair);
  cache.imageEmbedding();
  cache.textEmbedding();
  const [, L, D] = cache.stateAfter('image', opts.layer).shape;
  const noise = seededNoise(opts.seed, 'image');
  const draw = () => {
    const e = noise(0, [opts.copies, L, D]);
    const data = (e.dataSync() as Float32Array).slice();
    e.dispose();
    return data;
  };
  const eps = draw();
  const alpha = new Float32Array(L * D).fill(5);
  const share = (first: number, copies: number) => ({ side: 'image' as const, layer: opts.layer, reusePrefix: true, sigma: 1, copies, alpha, eps: eps.slice(first * L * D, (first + copies) * L * D), shape: [L, D] as [number, number] });
  const runs = splitRuns(opts.copies, pool.threads);
  const ctx = { model, cache };
  try {
    const noiseDrawMs = (await median(repeat, draw)).wall;
    const one = await median(repeat, () => m2ibPartialStep.run(ctx, share(0, opts.copies)));
    const largestShareMs = (await median(repeat, () => m2ibPartialStep.run(ctx, share(0, runs[0][1])))).wall;
    const pooled = await median(repeat, () => pool.map(cache, m2ibPartialStep, runs.map(([first, n]) => share(first, n))));
    return {
      noiseDrawMs,
      oneThreadStepMs: one.wall,
      largestShareMs,
      pooledStepMs: pooled.wall,
      overheadMs: pooled.wall - largestShareMs,
      oneThreadStepCpuMs: one.cpu,
      pooledStepCpuMs: pooled.cpu,
      idleCoresStepMs: Math.max(largestShareMs, pooled.cpu / pool.threads),
    };
  } finally {
    cache.dispose();
  }
}
