// Choosing the tensor backend. The native backends (tfjs-node, tfjs-node-gpu) download
// libtensorflow at install time, which offline machines cannot do, so they are optional:
// loaded lazily, and their absence is a message, not a crash. So is WebGPU (Dawn for Node,
// the optional `webgpu` package), which needs a GPU with a Vulkan driver. wasm is the offline
// default; `wasm-threads` is its threaded SIMD build (XNNPACK threads, see pool/wasm-threads.ts).
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

export type BackendName = 'auto' | 'wasm' | 'cpu' | 'tfjs-node' | 'tfjs-node-gpu' | 'webgpu' | 'wasm-threads';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'wasm', 'cpu', 'tfjs-node', 'tfjs-node-gpu', 'webgpu', 'wasm-threads'];
export type ConcreteBackend = Exclude<BackendName, 'auto'>;

/** Preference order for `auto`: fastest first (wasm-threads is opt-in: it rests on a shim). */
const AUTO_ORDER: readonly ConcreteBackend[] = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'];

/** Backends that run on a GPU or use every core themselves: one worker is their default. */
export const PARALLEL_BACKENDS: readonly ConcreteBackend[] = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm-threads'];

export interface BackendOptions {
  /** wasm-threads: XNNPACK threads (default: the number of cores). */
  wasmThreads?: number;
}

export interface BackendInfo {
  /** What the user asked for. */
  requested: BackendName;
  /** The harness name of the backend in use (never 'auto'). */
  name: ConcreteBackend;
  /** tfjs's own name for it (`wasm`, `cpu`, `tensorflow`, `webgpu`). */
  tfjsBackend: string;
  /** Why other candidates were skipped when `auto` was asked for. */
  skipped: { name: string; reason: string }[];
  /** wasm-threads: the XNNPACK thread count in use. */
  threads?: number;
}

let active: BackendInfo | undefined;

async function tryImport(specifier: string, install: string): Promise<string | undefined> {
  try {
    // A variable specifier keeps bundlers and type-checkers from requiring the package.
    await import(/* @vite-ignore */ specifier);
    return undefined;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return /Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(msg) ? `${specifier} is not installed (${install})` : `${specifier} failed to load: ${msg.split('\n')[0]}`;
  }
}

const NATIVE_INSTALL = (pkg: string) => `it downloads libtensorflow at install time; on a machine with internet run \`pnpm add -w ${pkg}@4.22.0\``;
const VULKAN_NEEDED =
  'WebGPU in Node (Dawn) needs a GPU with a Vulkan driver: the Vulkan loader (Debian/Ubuntu: libvulkan1) and the vendor ICD (NVIDIA: the driver\'s nvidia_icd.json; in a container NVIDIA_DRIVER_CAPABILITIES must include graphics)';

/** Whether a Vulkan loader is here for Dawn on Linux (LD_LIBRARY_PATH, then the usual library folders). */
export function hasVulkanLoader(): boolean {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib64', '/usr/local/lib', '/usr/local/nvidia/lib64'];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

/** WebGPU through Dawn: a reason string when there is no package, no Vulkan or no adapter. */
async function activateWebgpu(): Promise<string | undefined> {
  // Without a Vulkan loader Dawn finds nothing (and prints a warning): do not load it at all.
  if (process.platform === 'linux' && !hasVulkanLoader()) return `no Vulkan loader (libvulkan.so.1) on this machine; ${VULKAN_NEEDED}`;
  let dawn: { create: (flags: string[]) => { requestAdapter(): Promise<unknown> }; globals: Record<string, unknown> };
  try {
    dawn = await import(/* @vite-ignore */ ['webgpu'][0]);
  } catch (err) {
    return `the webgpu package (Dawn for Node) is not installed or does not load (${(err as Error).message.split('\n')[0]}); it is an optional dependency of @ceb/core: \`pnpm install\` adds it`;
  }
  const gpu = dawn.create([]);
  if (!(await gpu.requestAdapter())) return `no WebGPU adapter: Dawn found no GPU it can drive; ${VULKAN_NEEDED}`;
  // tfjs-backend-webgpu looks for the browser's globals (navigator.gpu, GPUBufferUsage, …).
  Object.assign(globalThis, dawn.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { ...(globalThis as { navigator?: object }).navigator, gpu }, configurable: true, writable: true });
  const missing = await tryImport('@tensorflow/tfjs-backend-webgpu', 'an optional dependency of @ceb/core: `pnpm install` adds it');
  if (missing) return missing;
  return (await tf.setBackend('webgpu')) ? undefined : 'webgpu: an adapter was found but the tfjs backend failed to initialise';
}

/** Loads and activates one concrete backend; returns a reason string when it cannot. */
async function activate(name: ConcreteBackend, opts: BackendOptions): Promise<string | undefined> {
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    return (await tf.setBackend('wasm')) ? undefined : 'the wasm backend failed to initialise';
  }
  if (name === 'wasm-threads') {
    const { startThreadedWasm } = await import('./pool/wasm-threads');
    const threads = Math.max(2, opts.wasmThreads ?? cpus().length);
    try {
      await startThreadedWasm(threads);
    } catch (err) {
      return `the threaded wasm build failed to start: ${(err as Error).message}`;
    }
    return undefined;
  }
  if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    return (await tf.setBackend('cpu')) ? undefined : 'the cpu backend failed to initialise';
  }
  if (name === 'webgpu') return activateWebgpu();
  // Both native packages register the backend under the name 'tensorflow'.
  const pkg = name === 'tfjs-node' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu';
  const missing = await tryImport(pkg, NATIVE_INSTALL(pkg));
  if (missing) return missing;
  return (await tf.setBackend('tensorflow')) ? undefined : `${name} loaded but its backend failed to initialise`;
}

/** The wasm module starts once per thread: its plain and threaded builds cannot follow each other. */
function wasmConflict(name: ConcreteBackend): string | undefined {
  const prior = active?.name;
  if ((name === 'wasm' && prior === 'wasm-threads') || (name === 'wasm-threads' && prior === 'wasm')) {
    return `${name} cannot start after ${prior} in the same process (tfjs starts one wasm module per thread); choose one for the whole run`;
  }
  return undefined;
}

/**
 * Selects the tensor backend. `auto` takes the best one present (tfjs-node-gpu, webgpu,
 * tfjs-node, wasm, cpu); naming one that is not available is an error that says what it
 * needs. The choice is process-wide (tfjs has one engine) and is returned for reports.
 */
export async function initBackend(requested: BackendName = 'auto', opts: BackendOptions = {}): Promise<BackendInfo> {
  if (!BACKEND_NAMES.includes(requested)) {
    throw new Error(`unknown backend "${String(requested)}"; expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  if (active && (active.requested === requested || active.name === requested)) return active;
  const skipped: { name: string; reason: string }[] = [];
  const candidates = requested === 'auto' ? AUTO_ORDER : [requested];
  for (const name of candidates) {
    const reason = wasmConflict(name) ?? (await activate(name, opts));
    if (!reason) {
      await tf.ready();
      const threads = name === 'wasm-threads' ? (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount() : undefined;
      active = { requested, name, tfjsBackend: tf.getBackend(), skipped, ...(threads ? { threads } : {}) };
      return active;
    }
    if (requested !== 'auto') throw new Error(`backend "${name}" is not available: ${reason}`);
    skipped.push({ name, reason });
  }
  throw new Error(`no tensor backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/** The backend chosen by the last `initBackend`, or undefined before any. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}

/** One line for logs and reports, e.g. `wasm (requested auto; skipped tfjs-node-gpu, webgpu, tfjs-node)`. */
export function describeBackend(info: BackendInfo): string {
  const skipped = info.skipped.length ? `; skipped ${info.skipped.map((s) => s.name).join(', ')}` : '';
  const threads = info.threads ? `, ${info.threads} XNNPACK threads` : '';
  return `${info.name} (requested ${info.requested}${threads}${skipped})`;
}
