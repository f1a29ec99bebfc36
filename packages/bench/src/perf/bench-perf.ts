// `pnpm bench:perf [--backend B] [--json] [--repeat N] [--only model,m2ib,methods]`:
// timings at the real ViT-B/32 geometry with random weights, on the active backend.
// Numbers go to docs/performance.md; nothing here is asserted by tests.
import { cpus, totalmem } from 'node:os';
import { Command, Option } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, initBackend, m2ib, PairCache, randomClip, type BackendName, type ClipModel, type PairInput } from '@ceb/core';

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

async function main(): Promise<void> {
  const program = new Command('bench:perf')
    .addOption(new Option('--backend <name>').choices(BACKEND_NAMES as string[]).default('auto'))
    .option('--json', 'print one JSON object')
    .option('--repeat <n>', 'timed runs per measurement (median reported)', '3')
    .option('--only <parts>', 'comma list of: model, m2ib, methods', 'model,m2ib,methods')
    .option('--small-count <n>', 'RISE masks / KernelSHAP samples for the measured row (the default count is extrapolated)', '100')
    .parse(process.argv);
  const o = program.opts();
  const repeat = Number(o.repeat);
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

  if (parts.has('model')) {
    const px1 = tf.randomNormal([1, 3, s, s], 0, 1, 'float32', 1) as tf.Tensor4D;
    const px10 = tf.randomNormal([10, 3, s, s], 0, 1, 'float32', 2) as tf.Tensor4D;
    const ids1 = [caption(model, 12)];
    const ids10 = Array.from({ length: 10 }, () => caption(model, 12));
    const run = (f: () => tf.Tensor) => () => tf.tidy(() => f()).dataSync();
    const tower = {
      imageForwardB1Ms: (await time(run(() => model.encodeImage(px1)), repeat)).ms,
      imageForwardB10Ms: (await time(run(() => model.encodeImage(px10)), repeat)).ms,
      textForwardB1Ms: (await time(run(() => model.encodeText(ids1)), repeat)).ms,
      textForwardB10Ms: (await time(run(() => model.encodeText(ids10)), repeat)).ms,
    };
    // Forward + backward of the last 2 vision blocks + head at batch 10 w.r.t. the block-9 state.
    const h9 = tf.tidy(() => model.vision.runBlocks(model.vision.embed(px10), 0, 10).h);
    const grad = tf.grad((h: tf.Tensor) => tf.sum(model.vision.head(model.vision.runBlocks(h as tf.Tensor3D, 10).h)));
    const lastTwo = (await time(() => tf.tidy(() => grad(h9)).dataSync(), repeat)).ms;
    Object.assign(tower, { lastTwoBlocksFwdBwdB10Ms: lastTwo });
    tf.dispose([px1, px10, h9]);
    result.model = tower;
    for (const [k, v] of Object.entries(tower)) log(`  ${k.padEnd(28)} ${v.toFixed(1)} ms`);
  }

  const pixels = tf.randomNormal([1, 3, s, s], 0, 1, 'float32', 3) as tf.Tensor4D;
  const pair: PairInput = { pixels, ids: caption(model, 12) };

  if (parts.has('m2ib')) {
    const opts = { layer: 9, steps: 10, copies: 10, seed: 0 };
    // Once-per-pair prefix: all hidden states of both towers and the clean embeddings.
    const prefixMs = (
      await time(() => {
        const c = new PairCache(model, pair);
        c.imageEmbedding();
        c.textEmbedding();
        c.dispose();
      }, repeat)
    ).ms;
    const fit = async (side: 'image' | 'text', reusePrefix: boolean) => {
      const c = new PairCache(model, pair);
      c.imageEmbedding();
      c.textEmbedding();
      const t0 = performance.now();
      await m2ib.explain({ model, pair, cache: c }, side, { ...opts, reusePrefix });
      const ms = performance.now() - t0;
      c.dispose();
      return ms;
    };
    const median = async (f: () => Promise<number>) => {
      await f();
      const xs: number[] = [];
      for (let i = 0; i < repeat; i++) xs.push(await f());
      return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    };
    const imageMapMs = await median(() => fit('image', true));
    const textMapMs = await median(() => fit('text', true));
    const fullImage = await median(() => fit('image', false));
    const fullText = await median(() => fit('text', false));
    const m = {
      imageMapMs,
      textMapMs,
      pairMs: prefixMs + imageMapMs + textMapMs,
      prefixMs,
      fullModelPairMs: fullImage + fullText,
      settings: 'layer 9, 10 steps, 10 copies, 12-token caption',
    };
    result.m2ib = m;
    log(`  m2ib (layer 9, 10 steps × 10 copies, 12 tokens):`);
    for (const [k, v] of Object.entries(m)) if (typeof v === 'number') log(`    ${k.padEnd(18)} ${v.toFixed(1)} ms`);
  }

  if (parts.has('methods')) {
    const { METHODS } = await import('@ceb/baselines');
    const rows: Record<string, { pairMs: number; note?: string }> = {};
    const small = Number(o.smallCount);
    // Sample-count options whose paper defaults take many minutes per pair on a CPU: measured
    // at a small count and scaled linearly per side (the cost is linear in the count), labelled so.
    const counted: Record<string, Partial<Record<'image' | 'text', string>>> = { rise: { image: 'masks', text: 'textMasks' }, kernelshap: { image: 'samples', text: 'samples' } };
    for (const method of Object.values(METHODS)) {
      const explainSide = async (side: 'image' | 'text', options: Record<string, unknown>) => {
        const c = new PairCache(model, pair);
        c.imageEmbedding();
        c.textEmbedding();
        const t0 = performance.now();
        await method.explain({ model, pair, cache: c }, side, options);
        const ms = performance.now() - t0;
        c.dispose();
        return ms;
      };
      const keys = counted[method.name] ?? {};
      let measured = 0;
      let estimated = 0;
      for (const side of method.sides) {
        const key = keys[side];
        const options = key ? { [key]: small } : {};
        await explainSide(side, options); // warm-up
        const ms = await explainSide(side, options);
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
    result.methods = rows;
    log('  methods (ms per pair, both sides where the method has both):');
    for (const [k, v] of Object.entries(rows)) log(`    ${k.padEnd(28)} ${v.pairMs.toFixed(1)} ms${v.note ? `  (${v.note})` : ''}`);
  }
  pixels.dispose();
  model.dispose();
  if (o.json) console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
