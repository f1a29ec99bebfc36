// The worker pool: `threads` threads in one process, each with its own tfjs backend and a
// replica of the model (wasm is single-threaded in Node; one backend per thread uses one
// core each). The main thread is one of them: it takes share 0 of every call, so a pool of
// N threads holds N − 1 extra replicas. Work is handed out per pair: the caller splits a
// pair's work into shares (M2IB copies, perturbation batches) and `map` runs them at once.
// A worker that dies fails the call it was in; the next call starts a fresh one.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpus } from 'node:os';
import { activeBackend, PARALLEL_BACKENDS, type ConcreteBackend } from '../backend';
import type { PairCache } from '../explain/pair-cache';
import type { ClipModel } from '../model/clip';
import { checkPoolMemory } from './memory';
import type { FromWorker, ToWorker } from './protocol';
import { snapshotModel, snapshotPair, type ModelSnapshot, type PairSnapshot } from './snapshot';
import type { PoolTask } from './task';

export interface PoolOptions {
  /** Threads in all, the main thread included (≥ 1). */
  threads: number;
  /** The workers' backend (default: the main thread's). */
  backend?: ConcreteBackend;
  /** wasm-threads: XNNPACK threads per worker. */
  wasmThreads?: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  name: string;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  pairId?: number;
  heapBytes: number;
  /** Why it stopped (error or fatal message), kept for the exit that follows. */
  reason?: string;
}

const WORKER_MAIN = new URL('./worker-main.ts', import.meta.url).href;

/** Worker source: register the TypeScript loader (tsx's ESM API), then load the worker's module. */
function bootstrap(): string {
  let api: string;
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('tsx/package.json');
    const exported = (require(pkg) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api'].import.default;
    api = pathToFileURL(join(dirname(pkg), exported)).href;
  } catch {
    throw new Error('the worker pool runs TypeScript in worker threads and needs the tsx package (a dependency of @ceb/core): run `pnpm install`');
  }
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_MAIN)}); });`;
}

/** Tasks handed to workers by every pool of this process (the fault below counts them). */
let dispatched = 0;
let faultAt: number | undefined;

/**
 * A fault for tests: the worker that gets the `atTask`-th task handed out from now on
 * (1-based) is killed right after, once, as a crash would kill it (`Worker.terminate`).
 */
export function injectPoolFault(f: { atTask: number } | undefined): void {
  faultAt = f && dispatched + f.atTask;
}

let nextPairId = 1;
const pairIds = new WeakMap<PairCache, number>();
const pairIdOf = (cache: PairCache) => pairIds.get(cache) ?? (pairIds.set(cache, nextPairId++), pairIds.get(cache)!);

export class WorkerPool {
  private readonly slots: (Slot | undefined)[];
  private nextTask = 1;
  private closing = false;
  private pairSnap?: { id: number; snap: PairSnapshot };
  /** Workers started after the first ones (a crash replaced). */
  restarts = 0;

  private constructor(
    readonly model: ClipModel,
    readonly threads: number,
    readonly backend: ConcreteBackend,
    private readonly wasmThreads: number | undefined,
  ) {
    this.slots = Array.from({ length: threads - 1 }, () => undefined);
  }

  /** Starts `threads − 1` workers on the model (refused, saying why, when memory would not hold them). */
  static async start(model: ClipModel, opts: PoolOptions): Promise<WorkerPool> {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new Error(`threads must be a positive integer, got ${opts.threads}`);
    const backend = opts.backend ?? activeBackend()?.name;
    if (!backend) throw new Error('start the tensor backend (initBackend) before the worker pool');
    checkPoolMemory(model, opts.threads - 1);
    const pool = new WorkerPool(model, opts.threads, backend, opts.wasmThreads);
    if (opts.threads > 1) {
      // One snapshot for all first workers; it is dropped once they hold their replicas.
      const snap = snapshotModel(model);
      try {
        await Promise.all(pool.slots.map((_, i) => pool.spawn(i, snap).ready));
      } catch (err) {
        await pool.close();
        throw err;
      }
    }
    return pool;
  }

  private spawn(i: number, snap: ModelSnapshot = snapshotModel(this.model)): Slot {
    const worker = new Worker(bootstrap(), { eval: true, execArgv: [] });
    let markReady!: () => void;
    let fail!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => ((markReady = res), (fail = rej)));
    ready.catch(() => {}); // a failed start is reported through the call that waits on it
    const slot: Slot = { worker, ready, pending: new Map(), heapBytes: 0 };
    worker.on('message', (m: FromWorker) => this.onMessage(slot, m, markReady));
    worker.on('error', (err) => (slot.reason ??= err.message));
    worker.on('exit', (code) => {
      const why = `pool worker ${i + 1} of ${this.slots.length} stopped (${slot.reason ?? `exit code ${code}`})`;
      fail(new Error(why));
      if (this.slots[i] === slot) this.slots[i] = undefined;
      // A call in flight fails even while closing (it would wait forever otherwise).
      const next = this.closing ? 'the pool was closed' : 'a fresh worker starts for the next task';
      for (const p of slot.pending.values()) p.reject(new Error(`${why} while running ${p.name}; ${next}`));
      slot.pending.clear();
    });
    const init: ToWorker = { type: 'init', backend: this.backend, wasmThreads: this.wasmThreads, model: snap };
    worker.postMessage(init);
    this.slots[i] = slot;
    return slot;
  }

  private onMessage(slot: Slot, m: FromWorker, markReady: () => void): void {
    if (m.type === 'ready') {
      slot.heapBytes = m.heapBytes;
      markReady();
    } else if (m.type === 'fatal') {
      slot.reason = m.message;
    } else {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (m.type === 'result') {
        slot.heapBytes = Math.max(slot.heapBytes, m.heapBytes);
        p.resolve(m.output);
      } else p.reject(new Error(`${p.name} on a pool worker: ${m.message}`));
    }
  }

  /** The live worker for slot i, started afresh if the last one died. */
  private async slot(i: number): Promise<Slot> {
    let s = this.slots[i];
    if (!s) {
      s = this.spawn(i);
      this.restarts++;
    }
    await s.ready;
    return s;
  }

  private pairSnapshot(cache: PairCache, id: number): PairSnapshot {
    if (this.pairSnap?.id !== id) this.pairSnap = { id, snap: snapshotPair(cache) };
    return this.pairSnap.snap;
  }

  /** Hands `input` to worker i (started afresh if it died); resolves once posted, to the promise of its result. */
  private async dispatch<I, O>(i: number, cache: PairCache, task: PoolTask<I, O>, input: I): Promise<{ result: Promise<O> }> {
    const s = await this.slot(i);
    if (this.closing) throw new Error('the worker pool is closed');
    const pairId = pairIdOf(cache);
    if (s.pairId !== pairId) {
      s.worker.postMessage({ type: 'pair', pairId, pair: this.pairSnapshot(cache, pairId) } satisfies ToWorker);
      s.pairId = pairId;
    }
    const id = this.nextTask++;
    const result = new Promise<O>((resolve, reject) => s.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, name: task.name }));
    result.catch(() => {}); // settled below through Promise.allSettled; a failure is rethrown there
    s.worker.postMessage({ type: 'task', id, pairId, module: task.module, name: task.name, input } satisfies ToWorker);
    dispatched++;
    if (faultAt === dispatched) {
      faultAt = undefined;
      void s.worker.terminate();
    }
    // Wrapped: a returned promise would be awaited by the caller of dispatch, not handed over.
    return { result };
  }

  /**
   * Runs `task` on each input at once: input 0 on this thread, input k on worker k (at most
   * `threads` inputs). Inputs are copied to the workers: pass compact arrays (slice, not subarray).
   * Rejects with the first failure, after every share has settled.
   */
  async map<I, O>(cache: PairCache, task: PoolTask<I, O>, inputs: I[]): Promise<O[]> {
    if (this.closing) throw new Error('the worker pool is closed');
    if (inputs.length > this.threads) throw new Error(`${task.name}: ${inputs.length} shares for a pool of ${this.threads} threads`);
    if (!inputs.length) return [];
    // Every worker has its share before this thread starts on its own (a synchronous task
    // would otherwise run before the messages go out, and the threads would take turns).
    const remote = (await Promise.all(inputs.slice(1).map((input, k) => this.dispatch(k, cache, task, input)))).map((d) => d.result);
    const settled = Promise.allSettled(remote);
    let local: O;
    try {
      local = await task.run({ model: this.model, cache }, inputs[0]);
    } finally {
      await settled;
    }
    return [local, ...(await Promise.all(remote))];
  }

  /** Peak backend bytes each worker reported (wasm: its heap). */
  workerHeapBytes(): number[] {
    return this.slots.map((s) => s?.heapBytes ?? 0);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s?.worker.terminate()));
  }
}

/** The thread count `--threads` means by default: every core, or 1 where the backend is parallel itself (a GPU, tfjs-node, wasm-threads). */
export function defaultThreads(backend: ConcreteBackend | undefined = activeBackend()?.name): number {
  return backend && PARALLEL_BACKENDS.includes(backend) ? 1 : cpus().length;
}

/** Parses `--threads`: a positive integer, or `auto` / undefined for the default. */
export function parseThreads(value: string | number | undefined, flag = '--threads'): number | undefined {
  if (value === undefined || value === 'auto') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} ${value}: expected a positive integer (threads in all, this one included) or auto`);
  return n;
}

/** A pool of `threads` for the model, or undefined for one thread (the single-thread code paths). */
export async function openPool(model: ClipModel, threads: number, opts: Omit<PoolOptions, 'threads'> = {}): Promise<WorkerPool | undefined> {
  if (threads <= 1) return undefined;
  const backend = opts.backend ?? activeBackend()?.name;
  const wasmThreads = backend === 'wasm-threads' ? Math.max(2, Math.floor(cpus().length / threads)) : undefined;
  return WorkerPool.start(model, { ...opts, threads, wasmThreads });
}
