// One run (or one shard of it): every sample through every method × side × sweep point and
// every pair metric, records appended as they are made; then the dataset metrics (ROAR,
// model randomisation), the summary and the report. Holds no method or metric logic.
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { decodeNpy, encodeNpy, expandRunDirs } from '@ceb/report';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { stringify as toYaml } from 'yaml';
import { describeQuirks, initBackend, mapBoxToModel, PairCache, type Attribution, type Box, type PairInput, type Side } from '@ceb/core';
import { METHODS } from '@ceb/baselines';
import { METRICS, parseNumberList, resolveParams, runRoar, sanityScore, roarSplit, type PairMetric, type RoarItem } from '@ceb/eval';
import type { Sample } from '@ceb/datasets';
import { metricAppliesTo, metricParams, type BenchConfig } from './config/schema';
import { planMethods, type MethodPlan } from './config/sweep';
import { loadDataset } from './data';
import { loadModelBundle, preparePair } from './model-bundle';
import { FILES, RunStore, type ResultRecord } from './store';
import { createProgress } from './progress';

export interface RunOptions {
  /** Run folder (a shard writes its own). */
  dir: string;
  shard?: { index: number; count: number };
  resume?: boolean;
  limit?: number;
  methods?: string[];
  metrics?: string[];
  /** Skip ROAR / sanity (shards do: the merge step runs them). */
  skipDatasetMetrics?: boolean;
  /** Only the dataset metrics (the merge step of a sharded run). */
  onlyDatasetMetrics?: boolean;
  configPath?: string;
  runId: string;
  log?: (line: string) => void;
  progress?: boolean;
}

export interface RunOutcome {
  dir: string;
  /** Records written by this process. */
  records: number;
  /** Records found from an earlier, interrupted run. */
  resumed: number;
  /** Lines in errors.jsonl. */
  errors: number;
  /** Samples of this shard. */
  samples: number;
}

const VERSION: string = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')).version;

/** Image maps kept by shards for the merge step's ROAR. */
const ROAR_MAPS = 'roar-maps';

function slug(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}

/** Metric outputs as record values: `<metric>.<output>`, NaN → null. */
function prefixed(metric: string, values: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${metric}.${k}`, Number.isFinite(v) ? v : null]));
}

export async function runBench(cfg: BenchConfig, opts: RunOptions): Promise<RunOutcome> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const shard = opts.shard ?? { index: 0, count: 1 };
  const backend = await initBackend(cfg.backend as never);
  const store = new RunStore(opts.dir, { resume: opts.resume ?? false });
  const plans = planMethods(cfg, opts.methods);
  const metricNames = Object.keys(cfg.metrics).filter((m) => !opts.metrics || opts.metrics.includes(m));
  const pairMetrics = metricNames.map((m) => METRICS[m]).filter((m): m is PairMetric => m.kind === 'pair');
  const datasetMetrics = metricNames.filter((m) => METRICS[m].kind === 'dataset');

  const set = await loadDataset(cfg, log);
  let samples = set.samples;
  if (opts.limit) samples = samples.slice(0, opts.limit);
  const mine = samples.map((s, i) => ({ s, i })).filter(({ i }) => i % shard.count === shard.index);
  const bundle = await loadModelBundle(cfg.model, cfg.modelQuirks);
  const { model } = bundle;

  store.writeText(FILES.config, toYaml(cfg));
  const runInfo = {
    runId: opts.runId,
    version: VERSION,
    startedAt: new Date().toISOString(),
    configPath: opts.configPath,
    config: cfg,
    model: {
      path: model.source.path,
      layout: model.source.layout,
      quirks: describeQuirks(model.quirks),
      vision: { imageSize: model.config.vision.imageSize, patchSize: model.config.vision.patchSize, hiddenSize: model.config.vision.hiddenSize, numLayers: model.config.vision.numLayers },
      text: { hiddenSize: model.config.text.hiddenSize, numLayers: model.config.text.numLayers },
    },
    dataset: { name: set.name, kind: set.kind, path: set.path, samples: samples.length, split: set.split },
    backend: { name: backend.name, requested: backend.requested },
    hardware: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
    seed: cfg.seed,
    shard,
    methods: [...new Set(plans.map((p) => p.method))].map((name) => ({
      name,
      sides: plans.filter((p) => p.method === name).map((p) => p.side),
      points: plans.find((p) => p.method === name)!.points.map((pt) => ({ key: pt.key, options: pt.options })),
    })),
    metrics: metricNames.map((name) => {
      const m = METRICS[name];
      return { name, kind: m.kind, outputs: m.higherIsBetter, substrate: m.substrate, params: metricParams(cfg, name), methods: cfg.metrics[name]?.methods, mode: name.startsWith('confidence-') ? name.slice('confidence-'.length) : undefined };
    }),
  };
  store.writeJson(FILES.run, runInfo);
  // Rows the loader could not use are failures of this run too (only shard 0 records them once).
  if (shard.index === 0 && !opts.resume) {
    for (const e of set.errors) store.appendError({ stage: 'load', sampleId: e.id, file: e.file, row: e.row, column: e.column, reason: e.reason });
  }

  let written = 0;
  const galleryCount = cfg.gallery.samples;
  const roarWanted = datasetMetrics.includes('roar');
  const roarMaps = new Map<string, Map<string, Float32Array>>(); // method@point → sampleId → map
  const work = plans.reduce((a, p) => a + p.points.length, 0);
  const progress = createProgress(opts.progress ?? false, mine.length * work, log);
  try {
    if (!opts.onlyDatasetMetrics) {
      for (const { s, i } of mine) {
        const todo = plans.flatMap((p) => p.points.map((pt) => ({ plan: p, point: pt }))).filter(({ plan, point }) => !store.hasResult({ sampleId: s.id, method: plan.method, side: plan.side, point: point.key }));
        if (todo.length === 0) {
          progress.tick(work, s.id);
          continue;
        }
        written += await runSample(s, i < galleryCount, todo);
        progress.tick(work, s.id);
      }
    }
  } finally {
    progress.stop();
  }

  async function runSample(s: Sample, inGallery: boolean, todo: { plan: MethodPlan; point: { key: string; options: Record<string, unknown> } }[]): Promise<number> {
    let prepared;
    try {
      prepared = await preparePair(bundle, s.imagePath, s.caption, { truncate: cfg.truncate });
    } catch (e) {
      store.appendError({ stage: 'load', sampleId: s.id, file: s.source.file, row: s.source.row, reason: (e as Error).message });
      return 0;
    }
    const size = model.config.vision.imageSize;
    const boxes = (s.boxes ?? []).map((b) => mapBoxToModel(b, prepared.original, size)).filter((b): b is Box => b !== null);
    const cache = new PairCache(model, prepared.pair);
    const galleryDir = join(opts.dir, FILES.gallery, slug(s.id));
    const galleryMaps: { method: string; point: string; side: Side; file: string }[] = [];
    let n = 0;
    try {
      for (const { plan, point } of todo) {
        const ids = { sampleId: s.id, method: plan.method, side: plan.side, point: point.key };
        let a: Attribution;
        try {
          a = await METHODS[plan.method].explain({ model, pair: prepared.pair, cache }, plan.side, point.options);
        } catch (e) {
          store.appendError({ stage: 'explain', ...ids, file: s.imagePath, reason: (e as Error).message });
          continue;
        }
        const values: Record<string, number | null> = {};
        const curves: Record<string, number[]> = {};
        const chance: Record<string, number> = {};
        const metricMs: Record<string, number> = {};
        for (const metric of pairMetrics) {
          if (!metric.sides.includes(plan.side) || !metricAppliesTo(cfg, metric.name, plan.method)) continue;
          if (metric.name === 'localisation' && boxes.length === 0) continue; // no ground truth for this sample
          const t0 = performance.now();
          try {
            const r = await metric.evaluate({ model, pair: prepared.pair, cache, attribution: a, sample: { boxes } }, metricParams(cfg, metric.name) as never);
            Object.assign(values, prefixed(metric.name, r.values));
            for (const [k, c] of Object.entries(r.curves ?? {})) curves[`${metric.name}.${k}`] = c;
            // What a map that knows nothing would score on this sample (for the report's chance row).
            for (const [k, v] of Object.entries(r.meta ?? {})) {
              if (k.startsWith('chance.') && typeof v === 'number') chance[`${metric.name}.${k.slice('chance.'.length)}`] = v;
            }
          } catch (e) {
            store.appendError({ stage: 'metric', ...ids, metric: metric.name, reason: (e as Error).message });
          }
          metricMs[metric.name] = performance.now() - t0;
        }
        const record: ResultRecord = {
          ...ids,
          options: point.options,
          values,
          ...(Object.keys(curves).length ? { curves } : {}),
          ...(Object.keys(chance).length ? { chance } : {}),
          flat: a.flat ?? false,
          ms: a.ms,
          metricMs,
          backend: backend.name,
          seed: cfg.seed,
          shard: shard.index,
        };
        store.appendResult(record);
        n++;
        if (roarWanted && plan.side === 'image' && metricAppliesTo(cfg, 'roar', plan.method)) {
          const key = `${plan.method}@${point.key}`;
          if (opts.skipDatasetMetrics) {
            // A shard: the merge step runs ROAR and reads the maps from here.
            const mapDir = join(opts.dir, ROAR_MAPS, slug(key));
            mkdirSync(mapDir, { recursive: true });
            writeFileSync(join(mapDir, `${slug(s.id)}.npy`), encodeNpy(a.scores, a.shape));
          } else {
            if (!roarMaps.has(key)) roarMaps.set(key, new Map());
            roarMaps.get(key)!.set(s.id, a.scores);
          }
        }
        if (inGallery) {
          mkdirSync(galleryDir, { recursive: true });
          const file = `${plan.method}@${point.key}.${plan.side}.${plan.side === 'image' ? 'npy' : 'json'}`;
          writeFileSync(join(galleryDir, file), plan.side === 'image' ? encodeNpy(a.scores, a.shape) : JSON.stringify({ scores: Array.from(a.scores) }));
          galleryMaps.push({ method: plan.method, point: point.key, side: plan.side, file });
        }
      }
      if (inGallery && galleryMaps.length) {
        const { width, height, data } = prepared.cropped;
        writeFileSync(join(galleryDir, 'input.png'), await sharp(Buffer.from(data), { raw: { width, height, channels: 3 } }).png().toBuffer());
        const metaFile = join(galleryDir, 'sample.json');
        let previous: { maps?: typeof galleryMaps } = {};
        try {
          previous = JSON.parse(readFileSync(metaFile, 'utf8'));
        } catch {
          /* first time for this sample */
        }
        writeFileSync(
          metaFile,
          JSON.stringify({ sampleId: s.id, caption: s.caption, tokens: prepared.tokens, boxes, image: 'input.png', maps: [...(previous.maps ?? []), ...galleryMaps] }, null, 2),
        );
      }
    } finally {
      cache.dispose();
      prepared.pair.pixels.dispose();
    }
    return n;
  }

  // Dataset metrics need every sample: they run where the whole set is (not in shards).
  if (!opts.skipDatasetMetrics && datasetMetrics.length) {
    if (datasetMetrics.includes('roar')) await runRoarMetric();
    if (datasetMetrics.includes('sanity')) await runSanityMetric();
  }

  async function loadItems(list: Sample[]): Promise<{ item: RoarItem; sample: Sample; pair: PairInput }[]> {
    const out: { item: RoarItem; sample: Sample; pair: PairInput }[] = [];
    for (const s of list) {
      try {
        const p = await preparePair(bundle, s.imagePath, s.caption, { truncate: cfg.truncate });
        out.push({ item: { pixels: p.pair.pixels.dataSync().slice() as Float32Array, caption: s.caption, ids: p.pair.ids, category: s.category }, sample: s, pair: p.pair });
      } catch {
        /* already recorded as a load failure in the pair phase */
      }
    }
    return out;
  }

  async function runRoarMetric(): Promise<void> {
    const params = metricParams(cfg, 'roar');
    const imagePlans = plans.filter((p) => p.side === 'image' && metricAppliesTo(cfg, 'roar', p.method));
    const pending = imagePlans.flatMap((p) => p.points.map((pt) => ({ plan: p, point: pt }))).filter(({ plan, point }) => !store.hasDatasetMetric({ metric: 'roar', method: plan.method, side: 'image', point: point.key }));
    if (!pending.length) return;
    const seed = Number(params.seed ?? cfg.seed);
    const { train, test } = roarSplit(samples, seed);
    log(`ROAR: ${train.length} train / ${test.length} test images, ${pending.length} method settings + a random ranking`);
    const t0 = performance.now();
    const trainItems = await loadItems(train);
    const testItems = await loadItems(test);
    const all = [...trainItems, ...testItems];
    const bySample = new Map(all.map((x) => [x.item, x]));
    const methods: Record<string, (item: RoarItem) => Promise<Float32Array>> = {};
    for (const { plan, point } of pending) {
      const key = `${plan.method}@${point.key}`;
      methods[key] = async (item) => {
        const x = bySample.get(item)!;
        const cached = roarMaps.get(key)?.get(x.sample.id);
        if (cached) return cached;
        for (const d of expandRunDirs([opts.dir])) {
          const file = join(d, ROAR_MAPS, slug(key), `${slug(x.sample.id)}.npy`);
          if (existsSync(file)) return decodeNpy(readFileSync(file), file).data;
        }
        // Not explained in this process (resumed run, or not in the evaluated part): explain now.
        const cache = new PairCache(model, x.pair);
        try {
          return (await METHODS[plan.method].explain({ model, pair: x.pair, cache }, 'image', point.options)).scores;
        } finally {
          cache.dispose();
        }
      };
    }
    try {
      const p = resolveParams('roar', METRICS.roar.params, params);
      const r = await runRoar({
        model,
        train: trainItems.map((x) => x.item),
        test: testItems.map((x) => x.item),
        methods,
        fractions: parseNumberList(String(p.fractions), 'metrics.roar.fractions'),
        probe: p.probe as 'linear' | 'finetune',
        // Unless the config says, MS-CXR-style sets (with a finding category) use the category task.
        task: (params.task ?? (set.kind === 'cc' ? 'retrieval' : 'category')) as 'retrieval' | 'category',
        seed,
        epochs: Number(p.epochs),
        lr: Number(p.lr),
      });
      const ms = performance.now() - t0;
      for (const { plan, point } of pending) {
        const c = r.methods[`${plan.method}@${point.key}`];
        store.appendDatasetMetric({
          metric: 'roar',
          method: plan.method,
          side: 'image',
          point: point.key,
          values: { 'roar.auc': c.auc, 'roar.aucGainOverRandom': c.aucGainOverRandom },
          curve: { x: c.fractions, y: c.accuracy, baseline: r.random.accuracy },
          n: testItems.length,
          ms,
        });
      }
      // The shards' maps were only kept for this step (tens of MB): the records now hold the result.
      for (const d of expandRunDirs([opts.dir])) rmSync(join(d, ROAR_MAPS), { recursive: true, force: true });
    } catch (e) {
      store.appendError({ stage: 'dataset', metric: 'roar', reason: (e as Error).message });
    } finally {
      for (const x of all) x.pair.pixels.dispose();
    }
  }

  async function runSanityMetric(): Promise<void> {
    const params = metricParams(cfg, 'sanity');
    const nPairs = Number(params.pairs ?? 8);
    const cascadeText = String(params.cascade ?? 'all');
    const depth = Math.min(model.vision.numLayers, model.text.numLayers);
    const cascade = cascadeText === 'all' ? Array.from({ length: depth }, (_, i) => i + 1) : cascadeText.split(',').map(Number);
    const items = await loadItems(samples.slice(0, nPairs));
    try {
      for (const plan of plans.filter((p) => metricAppliesTo(cfg, 'sanity', p.method))) {
        for (const point of plan.points) {
          const id = { metric: 'sanity', method: plan.method, side: plan.side, point: point.key };
          if (store.hasDatasetMetric(id)) continue;
          const t0 = performance.now();
          try {
            const r = await sanityScore(METHODS[plan.method], items.map((x) => x.pair), { model, side: plan.side, cascade, seed: Number(params.seed ?? cfg.seed), options: point.options });
            const last = r.correlation[r.correlation.length - 1];
            store.appendDatasetMetric({ ...id, values: { 'sanity.correlation': last }, curve: { x: r.cascade, y: r.correlation }, n: items.length, ms: performance.now() - t0 });
          } catch (e) {
            store.appendError({ stage: 'dataset', metric: 'sanity', method: plan.method, side: plan.side, point: point.key, reason: (e as Error).message });
          }
        }
      }
    } finally {
      for (const x of items) x.pair.pixels.dispose();
    }
  }

  store.writeJson(FILES.run, { ...runInfo, finishedAt: new Date().toISOString() });
  bundle.model.dispose();
  return { dir: opts.dir, records: written, resumed: store.resumedResults, errors: store.errorCount(), samples: mine.length };
}

