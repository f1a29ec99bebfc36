// The training run behind `pnpm train:tiny`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import cliProgress from 'cli-progress';
import { ClipTokenizer, initBackend, writeSafetensors, type ClipModel, type RawTensor } from '@ceb/core';
import { Rng } from '@ceb/random';
import { CAPTIONS, makeScene, makeScenes, type Scene } from './data';
import { evaluateRetrieval, type RetrievalReport } from './evaluate';
import { DEFAULT_GEOMETRY, buildTrainable, configJson, geometryConfig, initWeights, type TinyGeometry } from './model';
import { AdamW, learningRate, padIds, trainStep, trainableVars } from './train';
import { buildSmallVocab, writeSmallVocab } from './vocab';
import { writeModelReadme } from './readme';

export interface TrainOptions {
  out: string;
  steps: number;
  batch: number;
  seed: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  evalEvery: number;
  evalImages: number;
  finalEvalImages: number;
  singleFraction: number;
  geometry: TinyGeometry;
}

/** Seed of the held-out images: a different stream from the training images of `seed`. */
export const heldOutSeed = (seed: number) => seed + 1_000_003;

export function captionWords(): string[] {
  return [...new Set(CAPTIONS.flatMap((c) => c.split(' ')))];
}

/** Writes vocab.json + merges.txt into `dir` and returns every caption's ids, padded. */
export function prepareTokenizer(dir: string): { tokenizer: ClipTokenizer; captionIds: number[][] } {
  writeSmallVocab(dir, buildSmallVocab(captionWords()));
  const tokenizer = ClipTokenizer.fromModelDir(dir);
  const captionIds = padIds(CAPTIONS.map((c) => tokenizer.encodeForModel(c).ids), tokenizer.eosId);
  return { tokenizer, captionIds };
}

function parse(argv: string[]): TrainOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: 'models/synth-clip' },
      steps: { type: 'string', default: '6000' },
      batch: { type: 'string', default: '32' },
      seed: { type: 'string', default: '0' },
      lr: { type: 'string', default: '0.001' },
      warmup: { type: 'string', default: '50' },
      'weight-decay': { type: 'string', default: '0.05' },
      'eval-every': { type: 'string', default: '500' },
      'eval-images': { type: 'string', default: '200' },
      'final-eval-images': { type: 'string', default: '500' },
      'single-fraction': { type: 'string', default: '0.5' },
      'vision-width': { type: 'string', default: String(DEFAULT_GEOMETRY.visionWidth) },
      'vision-layers': { type: 'string', default: String(DEFAULT_GEOMETRY.visionLayers) },
      'image-size': { type: 'string', default: String(DEFAULT_GEOMETRY.imageSize) },
      'patch-size': { type: 'string', default: String(DEFAULT_GEOMETRY.patchSize) },
    },
    allowPositionals: false,
  });
  const num = (k: keyof typeof values, int: boolean, min: number): number => {
    const v = Number(values[k]);
    if (!Number.isFinite(v) || v < min || (int && !Number.isInteger(v))) {
      throw new Error(`--${k}: expected ${int ? 'an integer' : 'a number'} ≥ ${min}, got ${JSON.stringify(values[k])}`);
    }
    return v;
  };
  // pnpm runs the script in the package folder; INIT_CWD is where the user typed the command.
  const base = process.env.INIT_CWD ?? process.cwd();
  const geometry: TinyGeometry = {
    ...DEFAULT_GEOMETRY,
    visionWidth: num('vision-width', true, 8),
    visionLayers: num('vision-layers', true, 1),
    imageSize: num('image-size', true, 16),
    patchSize: num('patch-size', true, 1),
  };
  if (geometry.imageSize % geometry.patchSize !== 0) {
    throw new Error(`--image-size ${geometry.imageSize} is not a multiple of --patch-size ${geometry.patchSize}`);
  }
  if (geometry.visionWidth % geometry.visionHeads !== 0) {
    throw new Error(`--vision-width ${geometry.visionWidth} is not a multiple of the ${geometry.visionHeads} heads`);
  }
  return {
    out: resolve(base, values.out as string),
    steps: num('steps', true, 1),
    batch: num('batch', true, 2),
    seed: num('seed', true, 0),
    lr: num('lr', false, 0),
    warmup: num('warmup', true, 0),
    weightDecay: num('weight-decay', false, 0),
    evalEvery: num('eval-every', true, 0),
    evalImages: num('eval-images', true, 1),
    finalEvalImages: num('final-eval-images', true, 1),
    singleFraction: num('single-fraction', false, 0),
    geometry,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
export function formatReport(r: RetrievalReport): string {
  return `top1 ${pct(r.top1)} (chance ${pct(r.chanceTop1)}), top5 ${pct(r.top5)}, colour ${pct(r.colorCorrect)}, shape ${pct(r.shapeCorrect)}, any-true top1 ${pct(r.top1AnyTrue)}`;
}

interface HistoryEntry {
  step: number;
  loss: number;
  heldOut?: RetrievalReport;
  heldOutSingle?: RetrievalReport;
}

/**
 * A fresh model with its optimiser, the caption ids every step scores against, and the
 * held-out sets of the periodic evaluations (made before the clock starts, as they always were).
 */
interface TrainingRun {
  o: TrainOptions;
  model: ClipModel;
  vars: Map<string, tf.Variable>;
  opt: AdamW;
  captionIds: number[][];
  heldOut: Scene[];
  heldOutSingles: Scene[];
}

async function setUpRun(o: TrainOptions): Promise<TrainingRun> {
  await initBackend('wasm');
  mkdirSync(o.out, { recursive: true });
  const { captionIds } = prepareTokenizer(o.out);
  const config = geometryConfig(o.geometry);
  if (captionIds.some((r) => r.some((id) => id >= config.text.vocabSize))) throw new Error('vocabulary larger than the geometry’s vocab_size');
  const model = buildTrainable(initWeights(config, o.seed), config);
  const vars = trainableVars(model);
  const opt = new AdamW(vars, { weightDecay: o.weightDecay });
  const heldOut = makeScenes(heldOutSeed(o.seed), o.evalImages, o.geometry.imageSize);
  const heldOutSingles = makeScenes(heldOutSeed(o.seed) + 1, o.evalImages, o.geometry.imageSize, 1);
  return { o, model, vars, opt, captionIds, heldOut, heldOutSingles };
}

function progressBars(): cliProgress.MultiBar {
  return new cliProgress.MultiBar(
    {
      format: 'train |{bar}| {value}/{total} | loss {loss} | lr {lr} | {duration_formatted} elapsed | ETA {eta_formatted}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 15_000,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
}

/** Every step's loss, held-out retrieval every `evalEvery` steps, and the seconds spent in the steps themselves. */
async function trainLoop(run: TrainingRun): Promise<{ history: HistoryEntry[]; trainSeconds: number }> {
  const { o, model, opt, vars, captionIds, heldOut, heldOutSingles } = run;
  const rng = new Rng(o.seed);
  const bars = progressBars();
  const bar = bars.create(o.steps, 0, { loss: '-', lr: '-' });
  const history: HistoryEntry[] = [];
  let trainMs = 0;
  let ema = NaN;
  for (let step = 0; step < o.steps; step++) {
    const ts = Date.now();
    const scenes = Array.from({ length: o.batch }, () => makeScene(rng, o.geometry.imageSize, o.singleFraction));
    const lr = learningRate(step, o.steps, o.lr, o.warmup);
    const loss = trainStep(model, opt, vars, scenes, captionIds, lr);
    if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at step ${step}`);
    trainMs += Date.now() - ts;
    ema = Number.isNaN(ema) ? loss : 0.95 * ema + 0.05 * loss;
    const entry: HistoryEntry = { step: step + 1, loss };
    if (o.evalEvery > 0 && (step + 1) % o.evalEvery === 0 && step + 1 < o.steps) {
      entry.heldOut = evaluateRetrieval(model, heldOut, captionIds);
      entry.heldOutSingle = evaluateRetrieval(model, heldOutSingles, captionIds);
      bars.log(`step ${step + 1}: held-out (${o.evalImages} images) ${formatReport(entry.heldOut)}\n`);
      bars.log(`step ${step + 1}: held-out single-shape (${o.evalImages}) ${formatReport(entry.heldOutSingle)}\n`);
    }
    history.push(entry);
    bar.update(step + 1, { loss: ema.toFixed(3), lr: lr.toExponential(1) });
    // The step is synchronous: yield so the bar's timer can draw (and flush logged lines).
    await new Promise((r) => setImmediate(r));
  }
  bars.stop();
  return { history, trainSeconds: trainMs / 1000 };
}

/** Retrieval on the final held-out sets (2–4-shape scenes and single shapes), logged as well. */
function finalEvaluation({ o, model, captionIds }: TrainingRun): { final: RetrievalReport; single: RetrievalReport } {
  const finalSet = makeScenes(heldOutSeed(o.seed), o.finalEvalImages, o.geometry.imageSize);
  const singleSet = makeScenes(heldOutSeed(o.seed) + 1, Math.min(200, o.finalEvalImages), o.geometry.imageSize, 1);
  const final = evaluateRetrieval(model, finalSet, captionIds);
  const single = evaluateRetrieval(model, singleSet, captionIds);
  console.log(`held-out (${o.finalEvalImages} scenes of 2–4 shapes): ${formatReport(final)}`);
  console.log(`held-out (${singleSet.length} single-shape scenes): ${formatReport(single)}`);
  return { final, single };
}

/** model.safetensors and config.json: a Hugging Face model folder. */
async function writeModelFolder(o: TrainOptions, model: ClipModel): Promise<void> {
  const tensors = new Map<string, RawTensor>();
  for (const [k, x] of model.params) tensors.set(k, { dtype: 'F32', shape: x.shape, data: x.dataSync() as Float32Array });
  await writeSafetensors(resolve(o.out, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileSync(resolve(o.out, 'config.json'), JSON.stringify(configJson(o.geometry), null, 2) + '\n');
}

interface RunOutcome {
  history: HistoryEntry[];
  trainSeconds: number;
  totalSeconds: number;
  final: RetrievalReport;
  single: RetrievalReport;
}

/** What training.json holds (and the model README is written from). */
function trainingSummary({ o, model }: TrainingRun, r: RunOutcome) {
  const logitScale = Math.exp(model.params.get('logit_scale')!.dataSync()[0]);
  return {
    command: `pnpm train:tiny --seed ${o.seed} --steps ${o.steps} --batch ${o.batch} --lr ${o.lr} --warmup ${o.warmup} --single-fraction ${o.singleFraction} --vision-width ${o.geometry.visionWidth} --vision-layers ${o.geometry.visionLayers} --image-size ${o.geometry.imageSize} --patch-size ${o.geometry.patchSize}`,
    options: { ...o, out: undefined },
    backend: tf.getBackend(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
    trainSeconds: Math.round(r.trainSeconds),
    totalSeconds: r.totalSeconds,
    imagesSeen: o.steps * o.batch,
    parameters: [...model.params.values()].reduce((a, x) => a + x.size, 0),
    logitScale,
    heldOut: { seed: heldOutSeed(o.seed), ...r.final },
    heldOutSingle: { seed: heldOutSeed(o.seed) + 1, ...r.single },
    lossFirst: r.history[0].loss,
    lossLast20: r.history.slice(-20).reduce((a, h) => a + h.loss, 0) / Math.min(20, r.history.length),
    history: r.history.filter((h) => h.heldOut || h.step % 10 === 0),
  };
}

export async function main(argv: string[]): Promise<void> {
  const o = parse(argv);
  const run = await setUpRun(o);
  const t0 = Date.now(); // totalSeconds: training, final evaluation and writing, not the set-up
  const { history, trainSeconds } = await trainLoop(run);
  const { final, single } = finalEvaluation(run);
  await writeModelFolder(o, run.model);
  const totalSeconds = Math.round((Date.now() - t0) / 1000);
  const summary = trainingSummary(run, { history, trainSeconds, totalSeconds, final, single });
  writeFileSync(resolve(o.out, 'training.json'), JSON.stringify(summary, null, 1) + '\n');
  writeModelReadme(o.out, summary);
  console.log(`wrote ${o.out} (training ${trainSeconds.toFixed(0)} s)`);
  run.opt.dispose();
  run.model.dispose();
}
