// A unit of work the pool can run on any of its threads: a function over the thread's model
// and the current pair's cache. It is named by its module's URL and export name, so a worker
// imports the same code the main thread runs (the modules stay where they belong: M2IB's
// partial step in methods, scoring here) and core never imports a package above it.
import type { ClipModel } from '../model/clip';
import type { PairCache } from '../explain/pair-cache';

export interface TaskContext {
  model: ClipModel;
  /** The pair the pool was bound to for this call (on a worker: a copy of the main thread's cache). */
  cache: PairCache;
}

export interface PoolTask<I, O> {
  /** URL of the module that exports this task under `name`. */
  readonly module: string;
  readonly name: string;
  run(ctx: TaskContext, input: I): O | Promise<O>;
}

/** Declares a task; `module` is the declaring module's `import.meta.url`, `name` the export it is bound to. */
export function defineTask<I, O>(module: string, name: string, run: (ctx: TaskContext, input: I) => O | Promise<O>): PoolTask<I, O> {
  return { module, name, run };
}

/** Splits `n` items into `parts` contiguous runs as even as possible: [start, count] each (empty runs left out). */
export function splitRuns(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  const base = Math.floor(n / parts);
  let extra = n % parts;
  let start = 0;
  for (let p = 0; p < parts && start < n; p++) {
    const count = base + (extra-- > 0 ? 1 : 0);
    if (count > 0) out.push([start, count]);
    start += count;
  }
  return out;
}
