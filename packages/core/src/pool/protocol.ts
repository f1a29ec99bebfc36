// The messages between the pool (main thread) and its workers.
import type { ConcreteBackend } from '../backend';
import type { ModelSnapshot, PairSnapshot } from './snapshot';

export type ToWorker =
  | { type: 'init'; backend: ConcreteBackend; wasmThreads?: number; model: ModelSnapshot }
  | { type: 'pair'; pairId: number; pair: PairSnapshot }
  | { type: 'task'; id: number; pairId: number; module: string; name: string; input: unknown };

export type FromWorker =
  | { type: 'ready'; backend: string; heapBytes: number }
  | { type: 'result'; id: number; output: unknown; heapBytes: number }
  | { type: 'error'; id: number; message: string }
  | { type: 'fatal'; message: string };
