// The threaded SIMD build of the wasm backend in Node. tfjs turns it off in Node (its flag
// returns false there), and the build starts its pthreads with `new Worker(blob URL)`, which
// Node's worker_threads reject. Three small shims make it run:
//  - the pthread script is written to a temporary file and the Worker class that emscripten
//    takes from `worker_threads` is given that file instead of the blob URL;
//  - inside a pthread, the module factory is required from the package instead of evaluated
//    from a Blob (`importScripts(objectUrl)` cannot read a blob URL in Node);
//  - XNNPACK caps its pool at half of `os.cpus().length` (it assumes two hyper-threads per core),
//    so during start-up `os.cpus()` reports twice the wanted count.
// Measured in docs/performance.md against the worker pool.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The pthread script of the threaded build, as a file Node's Worker can start. */
function pthreadScript(): string {
  const dir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const { wasmWorkerContents } = require(join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // tfjs escapes newlines the same way before it makes its Blob (string literals in the script).
  const escaped = wasmWorkerContents.replace(/\n/g, '\\n');
  const body = escaped.replace('importScripts(objectUrl);', '');
  if (body === escaped) throw new Error('wasm-threads: the pthread script of @tensorflow/tfjs-backend-wasm changed; this shim fits 4.22.0');
  const factory = join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  const file = join(mkdtempSync(join(tmpdir(), 'ceb-wasm-threads-')), 'pthread.cjs');
  writeFileSync(file, `globalThis.WasmBackendModuleThreadedSimd = require(${JSON.stringify(factory)});\n${body}`);
  return file;
}

let shimmed = false;

/** Lets emscripten's `new Worker(blob:…)` start the pthread script from a file, without our TypeScript loader. */
function shimWorker(): void {
  if (shimmed) return;
  const wt = require('node:worker_threads') as typeof import('node:worker_threads');
  const script = pthreadScript();
  const Base = wt.Worker;
  class PthreadWorker extends Base {
    constructor(url: string | URL, options?: import('node:worker_threads').WorkerOptions) {
      const blob = typeof url === 'string' && url.startsWith('blob:');
      super(blob ? script : url, blob ? { ...options, execArgv: [] } : options);
    }
  }
  (wt as { Worker: typeof Base }).Worker = PthreadWorker;
  shimmed = true;
}

/**
 * Starts tfjs's wasm backend on its threaded SIMD build with `threads` XNNPACK threads
 * (threads ≥ 2). Must run before the wasm backend first starts in this process (or thread).
 * Returns the thread count XNNPACK reports.
 */
export async function startThreadedWasm(threads: number): Promise<number> {
  const tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  shimWorker();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  const os = require('node:os') as { cpus: () => unknown[] };
  const cpus = os.cpus;
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]);
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('the threaded wasm backend failed to initialise');
    await tf.ready();
  } finally {
    os.cpus = cpus;
  }
  // XNNPACK's threads run for good; emscripten keeps them referenced, so a finished process
  // would never exit. Unreferenced, they end with it.
  const pthreads = (tf.backend() as unknown as { wasm: { PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] } } }).wasm.PThread;
  for (const w of [...(pthreads?.runningWorkers ?? []), ...(pthreads?.unusedWorkers ?? [])]) w.unref();
  return wasm.getThreadsCount();
}
