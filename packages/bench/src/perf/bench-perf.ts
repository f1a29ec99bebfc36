// `pnpm bench:perf [--backend B] [--threads N] [--json] [--out FILE] [--repeat N] [--only model,m2ib,methods]`:
// timings at the real ViT-B/32 geometry with random weights, on the active backend, at
// `threads` threads (a worker pool; default every core on wasm) and, for M2IB, on one thread
// in the same run. The JSON goes to --out (default docs/perf/<backend>.json, which the dry
// run's cost model reads). Numbers go to docs/performance.md; nothing here is asserted by tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, defaultThreads, heapBytes, initBackend, openPool, PairCache, parseThreads, randomClip, VIT_B32_CONFIG, weightBytes, type BackendName, type ClipModel, type PairInput, type WorkerPool } from '@ceb/core';
import { m2ib, METHODS, type AnyExplainer } from '@ceb/methods';
import { defaultPerfFile } from '../cost';
import { profileM2ibStep, type StepProfile } from './step-profile';

interface Timing {
  ms: number;
  runs: number;
}

async function time(fn: () => unknown | Promise<unknown>, repeat: number): Promise<Timing> {
  await fn(); // warm-up: kernels compile, caches fill
  const runs: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await fn();
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  return { ms: runs[Math.floor(runs.length / 2)], runs: repeat };
}

function caption(model: ClipModel, n: number): number[] {
  const { bosTokenId, eosTokenId } = model.config.text;
  return [bosTokenId, ...Array.from({ length: n - 2 }, (_, i) => 320 + i * 7), eosTokenId];
}

interface PerfContext {
  model: ClipModel;
  pair: PairInput;
  repeat: number;
  log: (s: string) => void;
  /** The pool methods share a pair's work over (absent: one thread). */
  pool?: WorkerPool;
  threads: number;
  /** M2IB steps. */
  steps: number;
}

/** Median of `repeat` timed calls after one warm-up, of a function that returns its own time. */
async function medianOf(repeat: number, f: () => Promise<number>): Promise<number> {
  await f();
  const xs: number[] = [];
  for (let i = 0; i < repeat; i++) xs.push(await f());
  return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** Wall time of one explanation on a fresh pair cache whose clean embeddings are already computed. */
async function explainMs(p: PerfContext, method: AnyExplainer, side: 'image' | 'text', options: Record<string, unknown>): Promise<number> {
  const c = new PairCache(p.model, p.pair);
  c.imageEmbedding();
  c.textEmbedding();
  const t0 = performance.now();
  await method.explain({ model: p.model, pair: p.pair, cache: c, pool: p.pool }, side, options);
  const ms = performance.now() - t0;
  c.dispose();
  return ms;
}

/** The towers' forward passes at batch 1 and 10, and forward + backward of the last two vision blocks. */
async function measureModel(p: PerfContext): Promise<Record<string, number>> {
  const { model, repeat } = p;
  const s = model.config.vision.imageSize;
  const px1 = tf.randomNormal([1, 3, s, s], 0, 1, 'float32', 1) as tf.Tensor4D;
  const px10 = tf.randomNormal([10, 3, s, s], 0, 1, 'float32', 2) as tf.Tensor4D;
  const ids1 = [caption(model, 12)];
  const ids10 = Array.from({ length: 10 }, () => caption(model, 12));
  const run = (f: () => tf.Tensor) => () => tf.tidy(() => f()).dataSync();
  const tower: Record<string, number> = {
    imageForwardB1Ms: (await time(run(() => model.encodeImage(px1)), repeat)).ms,
    imageForwardB10Ms: (await time(run(() => model.encodeImage(px10)), repeat)).ms,
    textForwardB1Ms: (await time(run(() => model.encodeText(ids1)), repeat)).ms,
    textForwardB10Ms: (await time(run(() => model.encodeText(ids10)), repeat)).ms,
  };
  // Forward + backward of the last 2 vision blocks + head at batch 10 w.r.t. the block-9 state.
  const last2 = model.vision.numLayers - 2;
  const h9 = tf.tidy(() => model.vision.runBlocks(model.vision.embed(px10), 0, last2).h);
  const grad = tf.grad((h: tf.Tensor) => tf.sum(model.vision.head(model.vision.runBlocks(h as tf.Tensor3D, last2).h)));
  tower.lastTwoBlocksFwdBwdB10Ms = (await time(() => tf.tidy(() => grad(h9)).dataSync(), repeat)).ms;
  tf.dispose([px1, px10, h9]);
  for (const [k, v] of Object.entries(tower)) p.log(`  ${k.padEnd(28)} ${v.toFixed(1)} ms`);
  return tower;
}

/** M2IB's settings here: the real geometry's layer 9 (the last but two of a smaller tower), `steps` (10) steps × 10 copies. */
function m2ibSettings(p: PerfContext) {
  return { layer: Math.min(9, p.model.config.vision.numLayers - 3, p.model.config.text.numLayers - 3), steps: p.steps, copies: 10, seed: 0 };
}

/** One pair's M2IB cost on the context's threads: the prefix once, each side's map with the prefix reused. */
async function m2ibPair(p: PerfContext): Promise<{ pairMs: number; prefixMs: number; imageMapMs: number; textMapMs: number }> {
  const opts = m2ibSettings(p);
  // Once-per-pair prefix: all hidden states of both towers and the clean embeddings.
  const prefixMs = (
    await time(() => {
      const c = new PairCache(p.model, p.pair);
      c.imageEmbedding();
      c.textEmbedding();
      c.dispose();
    }, p.repeat)
  ).ms;
  const imageMapMs = await medianOf(p.repeat, () => explainMs(p, m2ib, 'image', opts));
  const textMapMs = await medianOf(p.repeat, () => explainMs(p, m2ib, 'text', opts));
  return { pairMs: prefixMs + imageMapMs + textMapMs, prefixMs, imageMapMs, textMapMs };
}

/**
 * M2IB per pair at the default thread count and on one thread in the same run (with the
 * speed-up), the official whole-model cost, and a profile of one step on the pool.
 */
async function measureM2ib(p: PerfContext, scaling: number[]): Promise<Record<string, unknown>> {
  const opts = m2ibSettings(p);
  const pooled = await m2ibPair(p);
  const one = p.pool ? await m2ibPair({ ...p, pool: undefined }) : pooled;
  const single = { ...p, pool: undefined };
  const fit = (side: 'image' | 'text') => () => explainMs(single, m2ib, side, { ...opts, reusePrefix: false });
  const fullModelPairMs = (await medianOf(p.repeat, fit('image'))) + (await medianOf(p.repeat, fit('text')));
  const settings = `layer ${opts.layer}, ${opts.steps} steps, ${opts.copies} copies, 12-token caption`;
  const m: Record<string, unknown> = {
    ...pooled,
    threads: p.threads,
    pairMsOneThread: one.pairMs,
    speedup: one.pairMs / pooled.pairMs,
    oneThread: { imageMapMs: one.imageMapMs, textMapMs: one.textMapMs, prefixMs: one.prefixMs },
    fullModelPairMs,
    settings,
  };
  if (p.pool) m.stepProfile = await profileM2ibStep(p.model, p.pair, p.pool, opts, p.repeat);
  if (scaling.length) m.scaling = await m2ibScaling(p, scaling);
  p.log(`  m2ib (${settings}), ${p.threads} thread(s):`);
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number') p.log(`    ${k.padEnd(18)} ${k === 'speedup' ? `${v.toFixed(2)}×` : k === 'threads' ? v : `${v.toFixed(1)} ms`}`);
  if (m.stepProfile) for (const [k, v] of Object.entries(m.stepProfile as StepProfile)) p.log(`    step: ${k.padEnd(22)} ${v.toFixed(1)} ms`);
  return m;
}

/** M2IB's pair time at each thread count (a fresh pool each), for the scaling table. */
async function m2ibScaling(p: PerfContext, counts: number[]): Promise<{ threads: number; pairMs: number }[]> {
  const rows: { threads: number; pairMs: number }[] = [];
  for (const threads of counts) {
    const pool = await openPool(p.model, threads);
    try {
      rows.push({ threads, pairMs: (await m2ibPair({ ...p, pool, threads })).pairMs });
    } finally {
      await pool?.close();
    }
    p.log(`    scaling: ${threads} thread(s) ${rows[rows.length - 1].pairMs.toFixed(0)} ms per pair`);
  }
  return rows;
}

// Sample-count options whose paper defaults take many minutes per pair on a CPU: measured at a
// small count and scaled linearly per side (the cost is linear in the count), labelled so.
const COUNTED: Record<string, Partial<Record<'image' | 'text', string>>> = { rise: { image: 'masks', text: 'textMasks' }, kernelshap: { image: 'samples', text: 'samples' } };

/** Every registered method, both sides where it has both. */
async function measureMethods(p: PerfContext, small: number): Promise<Record<string, { pairMs: number; note?: string }>> {
  const rows: Record<string, { pairMs: number; note?: string }> = {};
  for (const method of Object.values(METHODS)) {
    const keys = COUNTED[method.name] ?? {};
    let measured = 0;
    let estimated = 0;
    for (const side of method.sides) {
      const key = keys[side];
      const options = key ? { [key]: small } : {};
      await explainMs(p, method, side, options); // warm-up
      const ms = await explainMs(p, method, side, options);
      measured += ms;
      estimated += key ? (ms * Number(method.options[key].default)) / small : ms;
    }
    if (Object.keys(keys).length === 0) {
      rows[method.name] = { pairMs: measured };
      continue;
    }
    const named = [...new Set(Object.values(keys))];
    rows[`${method.name} (${named.map((k) => `${k}=${small}`).join(', ')})`] = { pairMs: measured };
    rows[`${method.name} (${named.map((k) => `${k}=${method.options[k!].default}`).join(', ')}, estimated)`] = { pairMs: estimated, note: `linear extrapolation from ${small}` };
  }
  p.log('  methods (ms per pair, both sides where the method has both):');
  for (const [k, v] of Object.entries(rows)) p.log(`    ${k.padEnd(28)} ${v.pairMs.toFixed(1)} ms${v.note ? `  (${v.note})` : ''}`);
  return rows;
}

/** A smaller random CLIP with the same token counts (50 vision tokens, 12-token caption), for quick checks. */
const SMALL_CONFIG = {
  projection_dim: 64,
  text_config: { ...VIT_B32_CONFIG.text_config, hidden_size: 128, intermediate_size: 512, num_hidden_layers: 6, num_attention_heads: 4 },
  vision_config: { ...VIT_B32_CONFIG.vision_config, hidden_size: 128, intermediate_size: 512, num_hidden_layers: 6, num_attention_heads: 4 },
};

function geometryOf(model: ClipModel, name: string): string {
  const { vision: v, text: t } = model.config;
  return `${name} (random weights): vision ${v.hiddenSize}×${v.numLayers}, text ${t.hiddenSize}×${t.numLayers}, ${(v.imageSize / v.patchSize) ** 2 + 1} vision tokens`;
}

/** Peak memory: the process (all threads), this thread's backend, each worker's backend. */
function memoryOf(model: ClipModel, pool: WorkerPool | undefined): Record<string, unknown> {
  const mib = (b: number) => Math.round(b / 2 ** 20);
  return {
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    weightsMiB: mib(weightBytes(model)),
    mainBackendMiB: mib(heapBytes()),
    workerBackendMiB: pool ? pool.workerHeapBytes().map(mib) : [],
  };
}

function perfProgram(): Command {
  return new Command('bench:perf')
    .addOption(new Option('--backend <name>').choices(BACKEND_NAMES as string[]).default('auto'))
    .option('--threads <n>', 'threads (a worker pool in this process); auto = every core on wasm/cpu, 1 on GPU, tfjs-node and wasm-threads', 'auto')
    .option('--json', 'print one JSON object')
    .option('--out <file>', 'write the JSON here (default docs/perf/<backend>.json; "-" for none)')
    .option('--repeat <n>', 'timed runs per measurement (median reported)', '3')
    .option('--only <parts>', 'comma list of: model, m2ib, methods', 'model,m2ib,methods')
    .option('--small-count <n>', 'RISE masks / KernelSHAP samples for the measured row (the default count is extrapolated)', '100')
    .addOption(new Option('--geometry <name>', 'model geometry: ViT-B/32, or a small one for quick checks').choices(['vit-b32', 'small']).default('vit-b32'))
    .option('--scaling <list>', 'also M2IB per pair at each of these thread counts, e.g. 1,2,3')
    .option('--steps <n>', 'M2IB steps (10 = the default of the method; fewer for a quick check)', '10')
    .parse(process.argv);
}

async function main(): Promise<void> {
  const o = perfProgram().opts();
  const parts = new Set(String(o.only).split(','));
  const log = (s: string) => {
    if (!o.json) console.log(s);
  };
  const backend = await initBackend(o.backend as BackendName);
  const threads = parseThreads(o.threads) ?? defaultThreads(backend.name);
  const model = o.geometry === 'small' ? randomClip(SMALL_CONFIG) : randomClip();
  const result: Record<string, unknown> = {
    backend: backend.name,
    threads,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    geometry: geometryOf(model, o.geometry === 'small' ? 'small' : 'ViT-B/32'),
    date: new Date().toISOString().slice(0, 10),
  };
  log(`backend ${backend.name} · ${threads} thread(s) · ${cpus()[0]?.model} × ${cpus().length}`);
  const pool = await openPool(model, threads);
  const s = model.config.vision.imageSize;
  const pixels = tf.randomNormal([1, 3, s, s], 0, 1, 'float32', 3) as tf.Tensor4D;
  const p: PerfContext = { model, pair: { pixels, ids: caption(model, 12) }, repeat: Number(o.repeat), log, pool, threads, steps: Number(o.steps) };
  try {
    if (parts.has('model')) result.model = await measureModel(p);
    if (parts.has('m2ib')) result.m2ib = await measureM2ib(p, o.scaling ? String(o.scaling).split(',').map(Number) : []);
    if (parts.has('methods')) result.methods = await measureMethods(p, Number(o.smallCount));
    result.memory = memoryOf(model, pool);
  } finally {
    await pool?.close();
    pixels.dispose();
    model.dispose();
  }
  const out = o.out === '-' ? undefined : o.out ? resolve(process.env.INIT_CWD ?? process.cwd(), o.out) : defaultPerfFile(backend.name);
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${out}`);
  }
  if (o.json) console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
