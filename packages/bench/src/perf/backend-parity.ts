// `tsx packages/bench/src/perf/backend-parity.ts --backend NAME [--model DIR] [--threads N] [--checks embeddings,m2ib]`:
// the parity checks on one backend, in a process of its own (tfjs has one engine per process,
// and the native and GPU backends load native code): the fixture CLIP's embeddings against its
// PyTorch cases, and M2IB (forward and backward, Adam) against the official algorithm with the
// fixture's noise — on `threads` threads (a worker pool when > 1). Prints one JSON line:
// { backend, available, reason?, checks: { name: { maxDiff, tol, pass } }, pass }; exits 1 only
// when an available backend fails a check. scripts/gpu-check.sh and backend-parity.test.ts run it.
import { join } from 'node:path';
import { Command, Option } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, initBackend, loadClip, openPool, PairCache, readSafetensors, toFloat32, type BackendName, type ClipModel, type TensorFile } from '@ceb/core';
import { CLIP_FIXTURE_DIR, maxAbsDiff } from '@ceb/core/testing';
import { m2ibWithNoise, type NoiseSource } from '@ceb/methods';

interface Check {
  maxDiff: number;
  tol: number;
  pass: boolean;
}
const check = (maxDiff: number, tol: number): Check => ({ maxDiff, tol, pass: maxDiff <= tol });
const f32 = (f: TensorFile, name: string) => toFloat32(f.tensors.get(name)!, name);

/** Projected embeddings of the fixture's two images and two captions against PyTorch's (clip-parity.test.ts's tolerance). */
async function embeddings(model: ClipModel, dir: string): Promise<Record<string, Check>> {
  const cases = await readSafetensors(join(dir, 'cases.safetensors'));
  const px = cases.tensors.get('pixel_values')!;
  const [b, l] = cases.tensors.get('input_ids')!.shape;
  const flat = Array.from(f32(cases, 'input_ids'));
  const ids = Array.from({ length: b }, (_, i) => flat.slice(i * l, (i + 1) * l));
  const image = tf.tidy(() => model.encodeImage(tf.tensor4d(f32(cases, 'pixel_values'), px.shape as [number, number, number, number])));
  const text = model.encodeText(ids);
  const out = { imageEmbeds: check(maxAbsDiff(image.dataSync(), f32(cases, 'image_embeds')), 1e-4), textEmbeds: check(maxAbsDiff(text.dataSync(), f32(cases, 'text_embeds')), 1e-4) };
  tf.dispose([image, text]);
  return out;
}

/** M2IB's maps with the fixture's noise replayed, against the official algorithm's (m2ib-parity.test.ts's tolerance). */
async function m2ibMaps(model: ClipModel, dir: string, threads: number): Promise<Record<string, Check>> {
  const fx = await readSafetensors(join(dir, 'm2ib.safetensors'));
  const px = fx.tensors.get('pixel_values')!;
  const cache = new PairCache(model, { pixels: tf.tensor4d(f32(fx, 'pixel_values'), px.shape as [number, number, number, number]), ids: Array.from(f32(fx, 'input_ids')) });
  const pool = await openPool(model, threads);
  const out: Record<string, Check> = {};
  try {
    for (const side of ['image', 'text'] as const) {
      const all = f32(fx, `${side}.noise`);
      const replay: NoiseSource = (step, shape) => tf.tensor3d(all.subarray(step * shape[0] * shape[1] * shape[2], (step + 1) * shape[0] * shape[1] * shape[2]), shape);
      const m = fx.metadata;
      const options = { layer: Number(m[`${side}.layer`]), beta: Number(m[`${side}.beta`]), steps: Number(m.steps), copies: Number(m.batch), lr: Number(m.lr), alphaInit: Number(m.alpha_init), sigma2: 1 };
      const res = await m2ibWithNoise(replay).explain({ model, pair: cache.pair, cache, pool }, side, options);
      const ref = f32(fx, `${side}.map`);
      // The text map of the fixture keeps BOS/EOS; the attribution drops them.
      out[`m2ib.${side}Map`] = check(maxAbsDiff(res.scores, side === 'image' ? ref : ref.subarray(1, ref.length - 1)), 1e-4);
    }
  } finally {
    await pool?.close();
    cache.pair.pixels.dispose();
    cache.dispose();
  }
  return out;
}

async function main(): Promise<void> {
  const o = new Command('backend-parity')
    .addOption(new Option('--backend <name>').choices(BACKEND_NAMES.filter((b) => b !== 'auto') as string[]).makeOptionMandatory())
    .option('--model <dir>', 'fixture model folder (config, weights, cases.safetensors, m2ib.safetensors)', CLIP_FIXTURE_DIR)
    .option('--threads <n>', 'threads for M2IB (a worker pool when > 1)', '1')
    .option('--checks <list>', 'embeddings, m2ib (the cpu backend is slow at M2IB)', 'embeddings,m2ib')
    .parse(process.argv)
    .opts();
  const backend = o.backend as BackendName;
  try {
    await initBackend(backend);
  } catch (err) {
    console.log(JSON.stringify({ backend, available: false, reason: (err as Error).message }));
    return;
  }
  const model = await loadClip(o.model);
  try {
    const wanted = new Set(String(o.checks).split(','));
    const checks = { ...(wanted.has('embeddings') ? await embeddings(model, o.model) : {}), ...(wanted.has('m2ib') ? await m2ibMaps(model, o.model, Number(o.threads)) : {}) };
    const pass = Object.values(checks).every((c) => c.pass);
    console.log(JSON.stringify({ backend, available: true, threads: Number(o.threads), checks, pass }));
    if (!pass) process.exitCode = 1;
  } finally {
    model.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
