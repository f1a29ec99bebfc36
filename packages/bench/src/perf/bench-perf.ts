// `pnpm bench:perf [--backend B] [--json] [--repeat N] [--only model,m2ib,methods]`:
// timings at the real ViT-B/32 geometry with random weights, on the active backend.
// Numbers go to docs/performance.md; nothing here is asserted by tests.
import { cpus, totalmem } from 'node:os';
import { Command, Option } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, initBackend, PairCache, randomClip, type BackendName, type ClipModel, type PairInput } from '@ceb/core';
import { m2ib, METHODS, type AnyExplainer } from '@ceb/methods';

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
  await method.explain({ model: p.model, pair: p.pair, cache: c }, side, options);
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
  const h9 = tf.tidy(() => model.vision.runBlocks(model.vision.embed(px10), 0, 10).h);
  const grad = tf.grad((h: tf.Tensor) => tf.sum(model.vision.head(model.vision.runBlocks(h as tf.Tensor3D, 10).h)));
  tower.lastTwoBlocksFwdBwdB10Ms = (await time(() => tf.tidy(() => grad(h9)).dataSync(), repeat)).ms;
  tf.dispose([px1, px10, h9]);
  for (const [k, v] of Object.entries(tower)) p.log(`  ${k.padEnd(28)} ${v.toFixed(1)} ms`);
  return tower;
}

/** M2IB per pair: the prefix once, each side's map with the prefix reused, and the official whole-model cost. */
async function measureM2ib(p: PerfContext): Promise<Record<string, number | string>> {
  const opts = { layer: 9, steps: 10, copies: 10, seed: 0 };
  // Once-per-pair prefix: all hidden states of both towers and the clean embeddings.
  const prefixMs = (
    await time(() => {
      const c = new PairCache(p.model, p.pair);
      c.imageEmbedding();
      c.textEmbedding();
      c.dispose();
    }, p.repeat)
  ).ms;
  const fit = (side: 'image' | 'text', reusePrefix: boolean) => () => explainMs(p, m2ib, side, { ...opts, reusePrefix });
  const imageMapMs = await medianOf(p.repeat, fit('image', true));
  const textMapMs = await medianOf(p.repeat, fit('text', true));
  const fullModelPairMs = (await medianOf(p.repeat, fit('image', false))) + (await medianOf(p.repeat, fit('text', false)));
  const m = { imageMapMs, textMapMs, pairMs: prefixMs + imageMapMs + textMapMs, prefixMs, fullModelPairMs, settings: 'layer 9, 10 steps, 10 copies, 12-token caption' };
  p.log(`  m2ib (layer 9, 10 steps × 10 copies, 12 tokens):`);
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number') p.log(`    ${k.padEnd(18)} ${v.toFixed(1)} ms`);
  return m;
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

async function main(): Promise<void> {
  const program = new Command('bench:perf')
    .addOption(new Option('--backend <name>').choices(BACKEND_NAMES as string[]).default('auto'))
    .option('--json', 'print one JSON object')
    .option('--repeat <n>', 'timed runs per measurement (median reported)', '3')
    .option('--only <parts>', 'comma list of: model, m2ib, methods', 'model,m2ib,methods')
    .option('--small-count <n>', 'RISE masks / KernelSHAP samples for the measured row (the default count is extrapolated)', '100')
    .parse(process.argv);
  const o = program.opts();
  const parts = new Set(String(o.only).split(','));
  const log = (s: string) => {
    if (!o.json) console.log(s);
  };
  const backend = await initBackend(o.backend as BackendName);
  const result: Record<string, unknown> = {
    backend: backend.name,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    geometry: 'ViT-B/32 (random weights): vision 768×12, text 512×12, 50 vision tokens',
  };
  log(`backend ${backend.name} · ${cpus()[0]?.model} × ${cpus().length}`);
  const model = randomClip();
  const s = model.config.vision.imageSize;
  const pixels = tf.randomNormal([1, 3, s, s], 0, 1, 'float32', 3) as tf.Tensor4D;
  const p: PerfContext = { model, pair: { pixels, ids: caption(model, 12) }, repeat: Number(o.repeat), log };
  if (parts.has('model')) result.model = await measureModel(p);
  if (parts.has('m2ib')) result.m2ib = await measureM2ib(p);
  if (parts.has('methods')) result.methods = await measureMethods(p, Number(o.smallCount));
  pixels.dispose();
  model.dispose();
  if (o.json) console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
