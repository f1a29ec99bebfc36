// `pnpm explain`: one pair, one method, both sides → an overlay PNG, the raw map, token scores.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { BACKEND_NAMES, checkOptions, defaultThreads, describeBackend, initBackend, openPool, PairCache, parseThreads, withDefaults, type Attribution, type BackendName, type ModelQuirks } from '@ceb/core';
import { formatMethodList, getMethod } from '@ceb/methods';
import { heatmapOverlayPng } from '@ceb/report';
import { encodeNpy } from '@ceb/results';
import { loadModelBundle, preparePair, quirksNote } from '../model-bundle';

export interface ExplainArgs {
  model: string;
  image: string;
  text: string;
  method: string;
  out: string;
  backend: BackendName;
  truncate?: boolean;
  /** Method options, as strings from the command line or values from code. */
  options: Record<string, unknown>;
  /** Per-side overrides (e.g. M2IB's text layer on a text tower of another depth). */
  sideOptions?: { image?: Record<string, unknown>; text?: Record<string, unknown> };
  /** Departures from standard CLIP, for parity (see core's ModelQuirks). */
  quirks?: ModelQuirks;
  /** Threads for the pair's work (a worker pool); 'auto' = every core on wasm/cpu, 1 elsewhere. Default 1. */
  threads?: number | 'auto';
}

export interface ExplainOutput {
  files: string[];
  attributions: Attribution[];
  tokens: string[];
  similarity: number;
  backend: string;
  threads: number;
}

/** Text bar for a score in [0, 1]. */
function bar(score: number, width = 20): string {
  const n = Math.round(Math.max(0, Math.min(1, score)) * width);
  return '█'.repeat(n) + '·'.repeat(width - n);
}

export async function runExplain(args: ExplainArgs, log: (line: string) => void = console.log): Promise<ExplainOutput> {
  const method = getMethod(args.method);
  const optionsFor = (side: 'image' | 'text') =>
    withDefaults(method.options, checkOptions(method.options, { ...args.options, ...args.sideOptions?.[side] }, `--method ${method.name}`));
  const backend = await initBackend(args.backend);
  const bundle = await loadModelBundle(args.model, args.quirks);
  const prepared = await preparePair(bundle, args.image, args.text, { truncate: args.truncate });
  const cache = new PairCache(bundle.model, prepared.pair);
  const threads = args.threads === 'auto' ? defaultThreads(backend.name) : (args.threads ?? 1);
  const pool = await openPool(bundle.model, threads);
  const out = resolve(args.out);
  mkdirSync(out, { recursive: true });
  const files: string[] = [];
  const attributions: Attribution[] = [];
  const write = (name: string, data: string | Buffer) => {
    writeFileSync(join(out, name), data);
    files.push(join(out, name));
  };
  try {
    const similarity = cache.similarity();
    log(`model ${bundle.model.source.path}${quirksNote(bundle.model)} · backend ${describeBackend(backend)} · ${threads} thread${threads > 1 ? 's' : ''}`);
    log(`cosine similarity of the pair: ${similarity.toFixed(4)}${prepared.truncated ? ' (caption truncated)' : ''}`);
    for (const side of method.sides) {
      const options = optionsFor(side);
      const a = await method.explain({ model: bundle.model, pair: prepared.pair, cache, pool }, side, options);
      attributions.push(a);
      const meta = { method: method.name, side, options, shape: a.shape, flat: a.flat ?? false, ms: a.ms, backend: backend.name, threads };
      if (side === 'image') {
        write('image-overlay.png', await heatmapOverlayPng(prepared.cropped, a.scores));
        write('image-map.npy', encodeNpy(a.scores, a.shape));
        write('image-map.json', JSON.stringify({ ...meta, scores: Array.from(a.scores) }));
        log(`image map ${a.shape.join('×')} in ${a.ms.toFixed(0)} ms${a.flat ? ' (flat: the raw map was constant)' : ''}`);
      } else {
        write('text-scores.json', JSON.stringify({ ...meta, caption: args.text, tokens: prepared.tokens, scores: Array.from(a.scores) }, null, 2));
        log(`text scores in ${a.ms.toFixed(0)} ms${a.flat ? ' (flat)' : ''}:`);
        const w = Math.max(...prepared.tokens.map((t) => t.length));
        // M2IB min-maxes over BOS/EOS too, which can squash the caption tokens: show the raw capacity beside.
        const capacity = Array.isArray(a.extra?.capacity) && a.extra.capacity.length === prepared.tokens.length + 2 ? (a.extra.capacity as number[]) : undefined;
        if (capacity) log(`  ${'<bos>'.padEnd(w)}  ${' '.repeat(20)}         ${capacity[0].toFixed(2)} nats`);
        prepared.tokens.forEach((t, i) => log(`  ${t.padEnd(w)}  ${bar(a.scores[i])}  ${a.scores[i].toFixed(3)}${capacity ? `  ${capacity[i + 1].toFixed(2)} nats` : ''}`));
        if (capacity) log(`  ${'<eos>'.padEnd(w)}  ${' '.repeat(20)}         ${capacity[capacity.length - 1].toFixed(2)} nats`);
      }
    }
    log(`wrote ${files.length} files to ${out}`);
    return { files, attributions, tokens: prepared.tokens, similarity, backend: backend.name, threads };
  } finally {
    await pool?.close();
    cache.dispose();
    prepared.pair.pixels.dispose();
    bundle.model.dispose();
  }
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function createExplainCommand(): Command {
  return new Command('explain')
    .description('Explain one image–caption pair with one method: writes an overlay PNG, the raw map and token scores')
    .option('--model <path>', 'model folder (config.json + weights + tokenizer) or checkpoint file')
    .option('--image <file>', 'image file (JPEG/PNG)')
    .option('--text <caption>', 'caption')
    .option('--method <name>', 'method name (see --list-methods)', 'm2ib')
    .option('--out <dir>', 'output folder', 'explain-out')
    .addOption(new Option('--backend <name>', 'tensor backend').choices(BACKEND_NAMES as string[]).default('auto'))
    .option('--threads <n>', "threads for the pair's work (a worker pool in this process); auto = every core on wasm/cpu, 1 on GPU, tfjs-node and wasm-threads", 'auto')
    .option('--layer <n>', 'block to explain at (methods with a layer option; negative counts from the end)')
    .option('--text-layer <n>', 'the layer for the text side, when it differs (e.g. M2IB on MS-CXR: --layer 9 --text-layer 7)')
    .option('--beta <x>', 'M2IB beta')
    .option('--sigma2 <x>', 'M2IB noise/prior variance')
    .option('--seed <n>', 'seed (random methods)')
    .option('--opt <key=value>', 'any other method option (repeatable)', collect, [])
    .option('--truncate', 'cut captions longer than the context instead of failing')
    .option('--text-no-causal-mask', "parity quirk: run the text tower without its causal mask (the M2IB chest X-ray wrapper's)")
    .option('--text-projection-twice', "parity quirk: apply the text projection twice (the M2IB chest X-ray wrapper's)")
    .option('--list-methods', 'print every method with its options and defaults')
    .action(async (o) => {
      if (o.listMethods) {
        console.log(formatMethodList());
        return;
      }
      for (const k of ['model', 'image', 'text'] as const) {
        if (!o[k]) throw new Error(`--${k} is required (or --list-methods)`);
      }
      const options: Record<string, unknown> = {};
      for (const k of ['layer', 'beta', 'sigma2', 'seed'] as const) if (o[k] !== undefined) options[k] = o[k];
      for (const kv of o.opt as string[]) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new Error(`--opt ${kv}: expected key=value`);
        options[kv.slice(0, i)] = kv.slice(i + 1);
      }
      const sideOptions = o.textLayer !== undefined ? { text: { layer: o.textLayer } } : undefined;
      const quirks: ModelQuirks = {};
      if (o.textNoCausalMask) quirks.textCausalMask = false;
      if (o.textProjectionTwice) quirks.textProjectionTwice = true;
      const threads = parseThreads(o.threads) ?? 'auto';
      await runExplain({ model: o.model, image: o.image, text: o.text, method: o.method, out: o.out, backend: o.backend, truncate: o.truncate, options, sideOptions, quirks, threads });
    });
}
