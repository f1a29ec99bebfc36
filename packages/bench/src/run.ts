// One run (or one shard of it): the plan, then its phases — the pair phase (every sample
// through every unit and pair metric) and the dataset phase (ROAR, model randomisation) —
// writing through the results store. Holds no method or metric logic.
import { stringify as toYaml } from 'yaml';
import { initBackend } from '@ceb/core';
import { expandRunDirs, removeKeptMaps, RunStore, WHOLE_RUN, type Shard } from '@ceb/results';
import type { BenchConfig } from './config/schema';
import { loadDataset } from './data';
import { keptKey, runDatasetPhase, type KeptMaps } from './dataset-phase';
import { loadModelBundle } from './model-bundle';
import { runPairPhase, type MapSink } from './pair-phase';
import { buildPlan, type RunPlan } from './plan';
import { createProgress } from './progress';
import { buildRunInfo } from './run-info';
import { chooseCaptionsWithModel } from './captions';
import { comparisonFor, loadPublished, PUBLISHED_DIR } from './published';

/**
 * 'pairs': the pair phase only (a shard: the merge step runs the dataset metrics);
 * 'dataset': the dataset phase only (the merge step of a sharded run); 'all': both.
 */
export type Phase = 'pairs' | 'dataset' | 'all';

export interface RunOptions {
  /** Run folder (a shard writes its own). */
  dir: string;
  shard?: Shard;
  phase?: Phase;
  resume?: boolean;
  limit?: number;
  methods?: string[];
  metrics?: string[];
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

/** Where the pair phase keeps maps for the dataset phase: in memory when one process runs both, else in the shard's folder. */
function mapSink(phase: Phase, store: RunStore, kept: KeptMaps): MapSink {
  if (phase === 'pairs') return (u, sampleId, a) => store.keepMap(u.method, u.point.key, sampleId, a.scores, a.shape);
  return (u, sampleId, a) => {
    const key = keptKey(u.method, u.point.key);
    if (!kept.has(key)) kept.set(key, new Map());
    kept.get(key)!.set(sampleId, a.scores);
  };
}

export async function runBench(cfg: BenchConfig, opts: RunOptions): Promise<RunOutcome> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const shard = opts.shard ?? WHOLE_RUN;
  const phase = opts.phase ?? 'all';
  const plan: RunPlan = buildPlan(cfg, { methods: opts.methods, metrics: opts.metrics });
  const backend = await initBackend(cfg.backend as never);
  const store = new RunStore(opts.dir, { resume: opts.resume ?? false });
  const set = await loadDataset(cfg, log);
  const bundle = await loadModelBundle(cfg.model, cfg.modelQuirks);
  let samples = opts.limit ? set.samples.slice(0, opts.limit) : set.samples;
  const isMine = (i: number) => i % shard.count === shard.index;
  if (cfg.dataset.kind === 'flickr8k') {
    // Only the samples this process works on: its shard's, or all of them where the dataset phase runs.
    const indices = samples.map((_, i) => i).filter((i) => phase !== 'pairs' || isMine(i));
    samples = await chooseCaptionsWithModel(bundle, samples, indices, { reference: cfg.dataset.captionChoice, batch: cfg.dataset.captionBatch }, cfg.truncate);
  }
  const mine = samples.map((s, i) => ({ s, i })).filter(({ i }) => isMine(i));
  store.writeConfig(toYaml(cfg));
  const comparison = cfg.compare ? comparisonFor(cfg.compare, loadPublished(cfg.compare, PUBLISHED_DIR), plan, { model: bundle.model, datasetKind: set.kind, samples: samples.length }) : undefined;
  const runInfo = buildRunInfo({ runId: opts.runId, configPath: opts.configPath, cfg, model: bundle.model, set, samples: samples.length, backend: { name: backend.name, requested: backend.requested }, shard, plan, comparison });
  store.writeRunInfo(runInfo);
  // Rows the loader could not use are failures of this run too (only shard 0 records them once).
  if (shard.index === 0 && !opts.resume) {
    for (const e of set.errors) store.appendError({ stage: 'load', sampleId: e.id, file: e.file, row: e.row, column: e.column, reason: e.reason, ...(e.severity === 'warning' ? { severity: 'warning' as const } : {}) });
  }
  const kept: KeptMaps = new Map();
  let written = 0;
  if (phase !== 'dataset') {
    const progress = createProgress(opts.progress ?? false, mine.length * plan.units.length, log);
    try {
      const sink = mapSink(phase, store, kept);
      written = await runPairPhase({ cfg, plan, bundle, store, backend: backend.name, shardIndex: shard.index, keepMap: sink, progress }, mine);
    } finally {
      progress.stop();
    }
  }
  // Dataset metrics need every sample: they run where the whole set is (not in shards).
  if (phase !== 'pairs' && plan.datasetMetrics.length) {
    await runDatasetPhase({ cfg, plan, bundle, store, samples, kept, dir: opts.dir, log });
    // The shards' maps were only kept for this step (tens of MB): once every outcome is recorded, the records hold them.
    const done = plan.datasetMetrics.every((d) => d.units.every((u) => store.hasDatasetMetric({ metric: d.name, method: u.method, side: u.side, point: u.point.key })));
    if (done) removeKeptMaps(expandRunDirs([opts.dir]));
  }
  store.writeRunInfo({ ...runInfo, finishedAt: new Date().toISOString() });
  bundle.model.dispose();
  return { dir: opts.dir, records: written, resumed: store.resumedResults, errors: store.errorCount(), samples: mine.length };
}
