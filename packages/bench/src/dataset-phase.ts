// The dataset phase: each dataset metric of the plan over the whole set (where the whole set
// is: a single process, or the merge step of a sharded run). The metric does the work
// (eval's `run`); this gives it the samples, the pairs, the maps and a place for outcomes.
import { PairCache, type PairInput } from '@ceb/core';
import type { Sample } from '@ceb/datasets';
import type { DatasetMetricContext, DatasetUnit } from '@ceb/eval';
import { decodeNpy, expandRunDirs, keptMapFile, prefixKeys, type RunStore } from '@ceb/results';
import { existsSync, readFileSync } from 'node:fs';
import type { BenchConfig } from './config/schema';
import { preparePair, type ModelBundle } from './model-bundle';
import type { PlannedDatasetMetric, PlanUnit, RunPlan } from './plan';

/** Image maps the pair phase of this process kept: `method@point` → sample id → map. */
export type KeptMaps = Map<string, Map<string, Float32Array>>;

export const keptKey = (method: string, point: string): string => `${method}@${point}`;

export interface DatasetPhase {
  cfg: BenchConfig;
  plan: RunPlan;
  bundle: ModelBundle;
  store: RunStore;
  /** The whole set, in plan order. */
  samples: readonly Sample[];
  /** Maps kept in memory by this process's pair phase. */
  kept: KeptMaps;
  /** The run folder (its shard folders hold the maps a sharded run kept). */
  dir: string;
  log: (line: string) => void;
}

const toDatasetUnit = (u: PlanUnit): DatasetUnit => ({ method: u.method, explainer: u.explainer, side: u.side, point: u.point.key, options: u.point.options });

/** A unit's image map for a sample: kept in memory, kept by a shard on disk, or explained now. */
async function mapOf(p: DatasetPhase, u: DatasetUnit, sample: Sample, pair: PairInput): Promise<Float32Array> {
  const inMemory = p.kept.get(keptKey(u.method, u.point))?.get(sample.id);
  if (inMemory) return inMemory;
  for (const d of expandRunDirs([p.dir])) {
    const file = keptMapFile(d, u.method, u.point, sample.id);
    if (existsSync(file)) return decodeNpy(readFileSync(file), file).data;
  }
  // Not explained in this run's pair phase (resumed run, or not in the evaluated part): explain now.
  const cache = new PairCache(p.bundle.model, pair);
  try {
    return (await u.explainer.explain({ model: p.bundle.model, pair, cache }, u.side, u.options)).scores;
  } finally {
    cache.dispose();
  }
}

function contextFor(p: DatasetPhase, d: PlannedDatasetMetric, units: DatasetUnit[]): DatasetMetricContext {
  return {
    model: p.bundle.model,
    samples: p.samples,
    units,
    params: d.params,
    async loadPair(s) {
      try {
        return (await preparePair(p.bundle, s.imagePath, s.caption, { truncate: p.cfg.truncate })).pair;
      } catch {
        return undefined; // already recorded as a load failure in the pair phase
      }
    },
    mapOf: (u, s, pair) => mapOf(p, u, s, pair),
    record(u, o) {
      const values = prefixKeys(d.name, o.values);
      p.store.appendDatasetMetric({ metric: d.name, method: u.method, side: u.side, point: u.point, values, ...(o.curve ? { curve: o.curve } : {}), n: o.n, ms: o.ms });
    },
    fail(u, reason) {
      p.store.appendError({ stage: 'dataset', metric: d.name, ...(u ? { method: u.method, side: u.side, point: u.point } : {}), reason });
    },
    log: p.log,
  };
}

/** Runs every dataset metric of the plan over the units it has not recorded yet. */
export async function runDatasetPhase(p: DatasetPhase): Promise<void> {
  for (const d of p.plan.datasetMetrics) {
    const units = d.units.filter((u) => !p.store.hasDatasetMetric({ metric: d.name, method: u.method, side: u.side, point: u.point.key })).map(toDatasetUnit);
    if (units.length) await d.metric.run(contextFor(p, d, units));
  }
}
