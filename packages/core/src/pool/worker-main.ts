// A pool worker: its own tfjs engine and backend, a replica of the model, the current pair's
// cache, and the tasks the main thread names. Messages are handled one at a time, in order.
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend';
import type { PairCache } from '../explain/pair-cache';
import type { ClipModel } from '../model/clip';
import type { FromWorker, ToWorker } from './protocol';
import { heapBytes } from './memory';
import { modelFromSnapshot, pairCacheFromSnapshot } from './snapshot';
import type { PoolTask } from './task';

if (!parentPort) throw new Error('pool/worker-main.ts runs inside a worker thread');
const port = parentPort;
let model: ClipModel | undefined;
let pair: { id: number; cache: PairCache } | undefined;
const tasks = new Map<string, PoolTask<unknown, unknown>>();

async function taskOf(module: string, name: string): Promise<PoolTask<unknown, unknown>> {
  const key = `${module}#${name}`;
  if (!tasks.has(key)) {
    const mod = (await import(/* @vite-ignore */ module)) as Record<string, PoolTask<unknown, unknown> | undefined>;
    const task = mod[name];
    if (!task || typeof task.run !== 'function') throw new Error(`pool task ${name} is not exported by ${module}`);
    tasks.set(key, task);
  }
  return tasks.get(key)!;
}

const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

/** Typed arrays in a result move instead of being copied. */
function transferables(output: unknown): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const visit = (v: unknown) => {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.push(v.buffer);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(output);
  return [...new Set(out)];
}

async function handle(m: ToWorker): Promise<void> {
  if (m.type === 'init') {
    await initBackend(m.backend, { wasmThreads: m.wasmThreads });
    model = modelFromSnapshot(m.model);
    send({ type: 'ready', backend: tf.getBackend(), heapBytes: heapBytes() });
    return;
  }
  if (!model) throw new Error('pool worker: a message came before init');
  if (m.type === 'pair') {
    if (pair) {
      pair.cache.dispose();
      pair.cache.pair.pixels.dispose();
    }
    pair = { id: m.pairId, cache: pairCacheFromSnapshot(model, m.pair) };
    return;
  }
  try {
    if (!pair || pair.id !== m.pairId) throw new Error(`pool worker: task for pair ${m.pairId}, but pair ${pair?.id ?? 'none'} is bound`);
    const task = await taskOf(m.module, m.name);
    const output = await task.run({ model, cache: pair.cache }, m.input);
    send({ type: 'result', id: m.id, output, heapBytes: heapBytes() }, transferables(output));
  } catch (err) {
    send({ type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) });
  }
}

let queue = Promise.resolve();
port.on('message', (m: ToWorker) => {
  queue = queue.then(() => handle(m)).catch((err: unknown) => {
    // An init or pair that fails leaves the worker unusable: say so and stop.
    send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
});
