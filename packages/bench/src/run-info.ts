// run.json: what ran, where and with what — the config, the model's geometry, the data set,
// the backend and machine, and every method point and metric with its declarations, so a
// reader (the report) needs no method or metric names.
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeQuirks, type ClipModel } from '@ceb/core';
import type { MetricInfo, PublishedComparison, RunInfo, Shard } from '@ceb/results';
import type { BenchConfig } from './config/schema';
import type { LoadedSet } from './data';
import { methodsOf, type PlannedMetric, type RunPlan } from './plan';
import type { Metric } from '@ceb/eval';

const VERSION: string = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')).version;

/** A metric's declarations as run.json carries them. */
function metricInfo(m: PlannedMetric<Metric>, cfg: BenchConfig): MetricInfo {
  const d = m.metric;
  return {
    name: m.name,
    kind: d.kind,
    outputs: d.higherIsBetter,
    substrate: d.substrate,
    params: m.params,
    ...(cfg.metrics[m.name]?.methods ? { methods: cfg.metrics[m.name]!.methods } : {}),
    ...(d.protocol ? { mode: d.protocol } : {}),
    category: d.category,
    ...(d.binary ? { binary: d.binary } : {}),
    ...(d.units ? { units: d.units } : {}),
    ...(d.headline ? { headline: [...d.headline] } : {}),
    ...(d.kind === 'pair' && d.curves ? { curves: d.curves } : {}),
    ...(d.kind === 'dataset' && d.curve ? { curve: d.curve } : {}),
  };
}

export interface RunInfoInput {
  runId: string;
  configPath?: string;
  cfg: BenchConfig;
  model: ClipModel;
  set: LoadedSet;
  samples: number;
  backend: { name: string; requested: string };
  shard: Shard;
  plan: RunPlan;
  comparison?: PublishedComparison;
  /** Threads each pair's work was shared over in this process (--threads). */
  threads?: number;
}

export function buildRunInfo(i: RunInfoInput): RunInfo & { config: BenchConfig } {
  const { model, set, cfg, plan } = i;
  const v = model.config.vision;
  return {
    runId: i.runId,
    version: VERSION,
    startedAt: new Date().toISOString(),
    configPath: i.configPath,
    config: cfg,
    model: {
      path: model.source.path,
      layout: model.source.layout,
      quirks: describeQuirks(model.quirks),
      vision: { imageSize: v.imageSize, patchSize: v.patchSize, hiddenSize: v.hiddenSize, numLayers: v.numLayers },
      text: { hiddenSize: model.config.text.hiddenSize, numLayers: model.config.text.numLayers },
    },
    dataset: { name: set.name, kind: set.kind, path: set.path, samples: i.samples, split: set.split },
    backend: { ...i.backend, threads: i.threads ?? 1 },
    hardware: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
    seed: cfg.seed,
    shard: i.shard,
    methods: methodsOf(plan),
    ...(i.comparison ? { comparison: i.comparison } : {}),
    metrics: [...plan.pairMetrics, ...plan.datasetMetrics].sort((a, b) => Object.keys(cfg.metrics).indexOf(a.name) - Object.keys(cfg.metrics).indexOf(b.name)).map((m) => metricInfo(m, cfg)),
  };
}
