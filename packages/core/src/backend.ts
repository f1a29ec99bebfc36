// Choosing the tensor backend. The native backends (tfjs-node, tfjs-node-gpu) download
// libtensorflow at install time, which offline machines cannot do, so they are optional:
// loaded lazily, and their absence is a message, not a crash. wasm is the offline default.
import * as tf from '@tensorflow/tfjs-core';

export type BackendName = 'auto' | 'wasm' | 'cpu' | 'tfjs-node' | 'tfjs-node-gpu';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'wasm', 'cpu', 'tfjs-node', 'tfjs-node-gpu'];

/** Preference order for `auto`: fastest first. */
const AUTO_ORDER: readonly Exclude<BackendName, 'auto'>[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

export interface BackendInfo {
  /** What the user asked for. */
  requested: BackendName;
  /** The harness name of the backend in use (never 'auto'). */
  name: Exclude<BackendName, 'auto'>;
  /** tfjs's own name for it (`wasm`, `cpu`, `tensorflow`). */
  tfjsBackend: string;
  /** Why other candidates were skipped when `auto` was asked for. */
  skipped: { name: string; reason: string }[];
}

let active: BackendInfo | undefined;

async function tryImport(specifier: string): Promise<string | undefined> {
  try {
    // A variable specifier keeps bundlers and type-checkers from requiring the package.
    await import(/* @vite-ignore */ specifier);
    return undefined;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return /Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(msg)
      ? `${specifier} is not installed (it downloads libtensorflow at install time; on a machine with internet run \`pnpm add -w ${specifier}\`)`
      : `${specifier} failed to load: ${msg.split('\n')[0]}`;
  }
}

/** Loads and activates one concrete backend; returns a reason string when it cannot. */
async function activate(name: Exclude<BackendName, 'auto'>): Promise<string | undefined> {
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    return (await tf.setBackend('wasm')) ? undefined : 'the wasm backend failed to initialise';
  }
  if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    return (await tf.setBackend('cpu')) ? undefined : 'the cpu backend failed to initialise';
  }
  // Both native packages register the backend under the name 'tensorflow'.
  const missing = await tryImport(name === 'tfjs-node' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu');
  if (missing) return missing;
  return (await tf.setBackend('tensorflow')) ? undefined : `${name} loaded but its backend failed to initialise`;
}

/**
 * Selects the tensor backend. `auto` takes the best one present (tfjs-node-gpu, tfjs-node,
 * wasm, cpu); naming a native backend that is not installed is an error that says how to
 * install it. The choice is process-wide (tfjs has one engine) and is returned for reports.
 */
export async function initBackend(requested: BackendName = 'auto'): Promise<BackendInfo> {
  if (!BACKEND_NAMES.includes(requested)) {
    throw new Error(`unknown backend "${String(requested)}"; expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  if (active && (active.requested === requested || active.name === requested)) return active;
  const skipped: { name: string; reason: string }[] = [];
  const candidates = requested === 'auto' ? AUTO_ORDER : [requested];
  for (const name of candidates) {
    const reason = await activate(name);
    if (!reason) {
      await tf.ready();
      active = { requested, name, tfjsBackend: tf.getBackend(), skipped };
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

/** One line for logs and reports, e.g. `wasm (auto; skipped tfjs-node-gpu, tfjs-node: not installed)`. */
export function describeBackend(info: BackendInfo): string {
  const skipped = info.skipped.length ? `; skipped ${info.skipped.map((s) => s.name).join(', ')}` : '';
  return `${info.name} (requested ${info.requested}${skipped})`;
}
