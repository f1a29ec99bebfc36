// The pair phase: every sample of this shard through every unit of the plan and the pair
// metrics that apply to it; one record per sample × unit, appended as it is made. Holds no
// method or metric logic: it reads what the plan resolved and what metrics declare.
import sharp from 'sharp';
import { mapBoxToModel, PairCache, type Attribution, type PairInput, type WorkerPool } from '@ceb/core';
import type { Sample } from '@ceb/datasets';
import { prefixKeys, type GalleryMap, type ResultRecord, type RunStore } from '@ceb/results';
import type { Box } from '@ceb/types';
import type { BenchConfig } from './config/schema';
import { preparePair, type ModelBundle, type PreparedPair } from './model-bundle';
import type { PlanUnit, RunPlan } from './plan';
import type { Progress } from './progress';

/** Where the pair phase leaves the image maps a dataset metric will re-use (memory or the shard's folder). */
export type MapSink = (unit: PlanUnit, sampleId: string, a: Attribution) => void;

export interface PairPhase {
  cfg: BenchConfig;
  plan: RunPlan;
  bundle: ModelBundle;
  store: RunStore;
  backend: string;
  shardIndex: number;
  /** Called for the units whose maps a dataset metric keeps (see `keptUnits`). */
  keepMap?: MapSink;
  progress: Progress;
  /** --threads: the worker pool each pair's explanations share their work over (absent: this thread alone). */
  pool?: WorkerPool;
}

/** The units whose image maps some dataset metric of the plan re-uses. */
export function keptUnits(plan: RunPlan): Set<PlanUnit> {
  const out = new Set<PlanUnit>();
  for (const d of plan.datasetMetrics) for (const u of d.units) if (d.metric.keepsMaps?.includes(u.side)) out.add(u);
  return out;
}

/** Runs the samples (with their index in the data set) that have units left to do; returns the records written. */
export async function runPairPhase(p: PairPhase, samples: { s: Sample; i: number }[]): Promise<number> {
  const kept = keptUnits(p.plan);
  let written = 0;
  for (const { s, i } of samples) {
    const todo = p.plan.units.filter((u) => !p.store.hasResult({ sampleId: s.id, method: u.method, side: u.side, point: u.point.key }));
    if (todo.length) written += await runSample(p, s, i < p.cfg.gallery.samples, todo, kept);
    p.progress.tick(p.plan.units.length, s.id);
  }
  return written;
}

async function runSample(p: PairPhase, s: Sample, inGallery: boolean, todo: PlanUnit[], kept: Set<PlanUnit>): Promise<number> {
  let prepared: PreparedPair;
  try {
    prepared = await preparePair(p.bundle, s.imagePath, s.caption, { truncate: p.cfg.truncate });
  } catch (e) {
    p.store.appendError({ stage: 'load', sampleId: s.id, file: s.source.file, row: s.source.row, reason: (e as Error).message });
    return 0;
  }
  const { model } = p.bundle;
  const boxes = modelBoxes(p, s, prepared.original, todo);
  const cache = new PairCache(model, prepared.pair);
  const galleryMaps: GalleryMap[] = [];
  let n = 0;
  try {
    for (const unit of todo) {
      const ids = { sampleId: s.id, method: unit.method, side: unit.side, point: unit.point.key };
      let a: Attribution;
      try {
        a = await unit.explainer.explain({ model, pair: prepared.pair, cache, pool: p.pool }, unit.side, unit.point.options);
      } catch (e) {
        p.store.appendError({ stage: 'explain', ...ids, file: s.imagePath, reason: (e as Error).message });
        continue;
      }
      const scored = await scoreUnit(p, unit, { pair: prepared.pair, cache, attribution: a, boxes }, ids);
      p.store.appendResult({ ...ids, options: unit.point.options, ...scored, flat: a.flat ?? false, ms: a.ms, metricMs: scored.metricMs, backend: p.backend, seed: p.cfg.seed, shard: p.shardIndex });
      n++;
      if (kept.has(unit)) p.keepMap?.(unit, s.id, a);
      if (inGallery) galleryMaps.push(p.store.writeGalleryMap(s.id, unit.method, unit.point.key, unit.side, a.scores, a.shape, a.extra));
    }
    if (inGallery && galleryMaps.length) {
      const { width, height, data } = prepared.cropped;
      const png = await sharp(Buffer.from(data), { raw: { width, height, channels: 3 } }).png().toBuffer();
      p.store.writeGallerySample({ sampleId: s.id, caption: s.caption, tokens: prepared.tokens, boxes }, png, galleryMaps);
    }
  } finally {
    cache.dispose();
    prepared.pair.pixels.dispose();
  }
  return n;
}

/**
 * The sample's boxes in model-input pixels. A valid box (inside its image) can still fall
 * outside the model's centre crop: the metrics that need boxes then leave this sample out — or
 * score it against the boxes that are left — and errors.jsonl says so, once per sample and metric.
 */
function modelBoxes(p: PairPhase, s: Sample, original: { width: number; height: number }, todo: PlanUnit[]): Box[] {
  const size = p.bundle.model.config.vision.imageSize;
  const mapped = (s.boxes ?? []).map((b) => mapBoxToModel(b, original, size));
  const boxes = mapped.filter((b): b is Box => b !== null);
  const lost = mapped.length - boxes.length;
  if (lost === 0) return boxes;
  const needing = new Set(todo.flatMap((u) => u.metrics.filter((m) => m.metric.needs?.boxes).map((m) => m.name)));
  const crop = `the model sees the central ${size}×${size} crop of the ${original.width}×${original.height} image resized so its shorter side is ${size}`;
  for (const metric of needing) {
    const where = { stage: 'metric', sampleId: s.id, metric, file: s.source.file, row: s.source.row };
    if (boxes.length === 0) {
      p.store.appendError({ ...where, reason: `${lost === 1 ? 'its box lies' : `all ${lost} boxes lie`} outside the model's centre crop (${crop}): ${metric} left out for this sample` });
    } else {
      p.store.appendError({ ...where, severity: 'warning', reason: `${lost} of ${mapped.length} boxes lie outside the model's centre crop (${crop}): ${metric} scored against the other ${boxes.length}` });
    }
  }
  return boxes;
}

/** `<metric>.<output>` keys; NaN / ±Infinity become null (undefined for this pair). */
type Scored = Pick<ResultRecord, 'values' | 'curves' | 'chance' | 'meta'> & { metricMs: Record<string, number> };

/** Every pair metric of the unit on one explanation; a metric that fails is recorded and the others go on. */
async function scoreUnit(
  p: PairPhase,
  unit: PlanUnit,
  on: { pair: PairInput; cache: PairCache; attribution: Attribution; boxes: Box[] },
  ids: { sampleId: string; method: string; side: string; point: string },
): Promise<Scored> {
  const values: Record<string, number | null> = {};
  const curves: Record<string, number[]> = {};
  const chance: Record<string, number> = {};
  const meta: Record<string, string | number | boolean | null> = {};
  const metricMs: Record<string, number> = {};
  for (const { name, metric, params } of unit.metrics) {
    if (metric.needs?.boxes && on.boxes.length === 0) continue; // no ground truth for this sample
    const t0 = performance.now();
    try {
      const r = await metric.evaluate({ model: p.bundle.model, pair: on.pair, cache: on.cache, attribution: on.attribution, sample: { boxes: on.boxes }, pool: p.pool }, params);
      Object.assign(values, prefixKeys(name, r.values));
      Object.assign(curves, prefixKeys(name, r.curves ?? {}));
      Object.assign(chance, prefixKeys(name, r.chance ?? {}));
      Object.assign(meta, prefixKeys(name, r.meta ?? {}));
    } catch (e) {
      p.store.appendError({ stage: 'metric', ...ids, metric: name, reason: (e as Error).message });
    }
    metricMs[name] = performance.now() - t0;
  }
  const some = (o: object) => Object.keys(o).length > 0;
  return { values, ...(some(curves) ? { curves: curves as Record<string, number[]> } : {}), ...(some(chance) ? { chance: chance as Record<string, number> } : {}), ...(some(meta) ? { meta } : {}), metricMs };
}
