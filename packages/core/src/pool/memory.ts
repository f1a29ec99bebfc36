// How much memory a pool worker takes, and whether this machine has it. A worker holds a
// replica of the model in its own backend plus the activations of its shares; the factor is
// measured (docs/performance.md, 2026-12-01: ViT-B/32 on wasm, a worker's heap after every
// method's shares — the wasm heap never shrinks — was 2,678 MiB for 577 MiB of weights).
import { freemem } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type { ClipModel } from '../model/clip';

/** Peak bytes of a worker (less the base below) ÷ bytes of the model's weights, measured on wasm at ViT-B/32. */
export const WORKER_PEAK_PER_WEIGHT_BYTE = 4.5;
/** What a worker costs besides the model: its own JS engine and the wasm module (measured ≈ 60 MB). */
export const WORKER_BASE_BYTES = 100 * 2 ** 20;

/** Bytes the backend of this thread holds now (the wasm heap only grows, so after a task this is its peak). */
export function heapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.byteLength ?? tf.memory().numBytes;
}

/** Bytes of the model's weights (float32). */
export function weightBytes(model: ClipModel): number {
  let n = 0;
  for (const t of model.params.values()) n += t.size * 4;
  return n;
}

/** Estimated peak bytes of one worker for this model. */
export function workerBytes(model: ClipModel): number {
  return WORKER_BASE_BYTES + WORKER_PEAK_PER_WEIGHT_BYTE * weightBytes(model);
}

/** Memory this process may still take: what the OS calls available, and the cgroup limit where there is one. */
export function availableBytes(): number {
  const free = freemem();
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  if (!limit || limit <= 0 || limit >= Number.MAX_SAFE_INTEGER) return free;
  return Math.min(free, Math.max(0, limit - process.memoryUsage().rss));
}

const gb = (b: number) => `${(b / 2 ** 30).toFixed(1)} GB`;

/** Throws, saying why and what fits, when `workers` replicas of `model` would not fit in memory. */
export function checkPoolMemory(model: ClipModel, workers: number, available = availableBytes()): void {
  const each = workerBytes(model);
  if (workers * each <= 0.9 * available) return;
  const fits = Math.max(0, Math.floor((0.9 * available) / each));
  throw new Error(
    `--threads ${workers + 1}: ${workers} pool workers would need about ${gb(workers * each)} (each holds its own copy of the model, ` +
      `${gb(weightBytes(model))} of weights, and peaks near ${gb(each)}), but ${gb(available)} is available; ` +
      `use --threads ${fits + 1} or fewer, or the wasm-threads backend (one copy of the model, XNNPACK threads)`,
  );
}
