// One run (or one shard of it): the plan and its check against the model, then — holding the
// folder's lock — its phases: the pair phase (every sample through every unit and pair metric)
// and the dataset phase (ROAR, model randomisation), writing through the results store. A
// resumed folder is continued only when it holds the same run (fingerprint.ts). Holds no method
// or metric logic.
import { hostname } from 'node:os';
import { stringify as toYaml } from 'yaml';
import { initBackend, openPool } from '@ceb/core';
import type { Sample } from '@ceb/datasets';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandRunDirs, FILES, removeKeptMaps, RunStore, WHOLE_RUN, type Shard } from '@ceb/results';
import type { BenchConfig } from './config/schema';
import { datasetHasBoxes, loadDataset, type LoadedSet } from './data';
import { keptKey, runDatasetPhase, type KeptMaps } from './dataset-phase';
import { describeDiff, fingerprintDiff, fingerprintRun, type Fingerprint } from './fingerprint';
import { readModelGeometry } from './geometry';
import { loadModelBundle, type ModelBundle } from './model-bundle';
import { runPairPhase, type MapSink } from './pair-phase';
import { buildPlan, checkPlan, PlanError, type PlanFilters, type RunPlan } from './plan';
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
  /** Take the folder's lock even from a live holder. */
  forceUnlock?: boolean;
  /** Threads for each pair's work (a worker pool in this process, --threads); default 1. */
  threads?: number;
  limit?: number;
  methods?: string[];
  metrics?: string[];
  configPath?: string;
  runId: string;
  log?: (line: string) => void;
  progress?: boolean;
  /** The plan of cfg with these methods and metrics, already checked (checkedPlan) by the caller; else built and checked here. */
  plan?: RunPlan;
}

export interface RunOutcome {
  dir: string;
  /** Records written by this process. */
  records: number;
  /** Records found from an earlier, interrupted run. */
  resumed: number;
  /** Failures in this folder's errors.jsonl, counted as the summary and the report count them. */
  failures: number;
  /** Warnings there (a record kept, e.g. a duplicated row kept once). */
  warnings: number;
  /** Samples of this shard. */
  samples: number;
}

/**
 * The plan, checked against the model's geometry and the data set's kind: what cannot pass on
 * any sample stops here, before any folder, record or model load (the --dry-run check).
 */
export async function checkedPlan(cfg: BenchConfig, filters: PlanFilters, configPath = 'config'): Promise<RunPlan> {
  const plan = buildPlan(cfg, filters);
  const problems = checkPlan(plan, cfg, await readModelGeometry(cfg.model), datasetHasBoxes(cfg.dataset.kind));
  if (problems.length) throw new PlanError(problems, configPath);
  return plan;
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

interface Loaded {
  set: LoadedSet;
  bundle: ModelBundle;
  /** The run's samples (after --limit), in order. */
  samples: Sample[];
}

async function loadInputs(cfg: BenchConfig, opts: RunOptions, plan: RunPlan, shard: Shard, phase: Phase, log: (s: string) => void): Promise<Loaded> {
  const set = await loadDataset(cfg, log);
  const bundle = await loadModelBundle(cfg.model, cfg.modelQuirks);
  let samples = opts.limit ? set.samples.slice(0, opts.limit) : set.samples;
  // Only the samples whose captions this process reads: its shard's in the pair phase, all of
  // them where dataset metrics run, none in a merge step without any (the fingerprint reads ids only).
  const needsCaptions = phase === 'pairs' ? (i: number) => i % shard.count === shard.index : () => phase === 'all' || plan.datasetMetrics.length > 0;
  if (cfg.dataset.kind === 'flickr8k') {
    const indices = samples.map((_, i) => i).filter(needsCaptions);
    samples = await chooseCaptionsWithModel(bundle, samples, indices, { reference: cfg.dataset.captionChoice, batch: cfg.dataset.captionBatch }, cfg.truncate);
  }
  return { set, bundle, samples };
}

/** A resumed folder must hold this run: the same fingerprint (and, for the merge step, shards of it). */
function checkSameRun(store: RunStore, fp: Fingerprint, phase: Phase): void {
  const prev = store.previousRunInfo?.fingerprint as Fingerprint | undefined;
  if (store.previousRunInfo && !prev?.keys) {
    throw new Error(`${store.dir} holds a run without a fingerprint (an older version wrote it): cannot tell whether it is this run; --out another folder`);
  }
  const diff = prev ? fingerprintDiff(prev, fp) : [];
  if (diff.length) {
    throw new Error(`--resume refused: ${store.dir} holds another run; the config differs in ${diff.length} key(s):\n${describeDiff(diff)}\nRun the same config to continue it, or --out another folder for the new one.`);
  }
  if (phase !== 'dataset') return;
  for (const d of expandRunDirs([store.dir]).filter((x) => x !== store.dir)) {
    const theirs = JSON.parse(readFileSync(join(d, FILES.run), 'utf8')) as { fingerprint?: Fingerprint };
    const shardDiff = theirs.fingerprint ? fingerprintDiff(theirs.fingerprint, fp, ['shard']) : [{ key: '(no fingerprint)' }];
    if (shardDiff.length) throw new Error(`${d} is a shard of another run; it differs in:\n${describeDiff(shardDiff)}`);
  }
}

/** run.json: this run's facts, keeping the first start and listing every resume. */
function runInfoOf(store: RunStore, base: ReturnType<typeof buildRunInfo>, fp: Fingerprint, backend: string): Record<string, unknown> {
  const prev = store.previousRunInfo;
  if (!prev) return { ...base, fingerprint: fp };
  const resumes = [...((prev.resumes as unknown[] | undefined) ?? []), { at: new Date().toISOString(), host: hostname(), pid: process.pid, backend }];
  return { ...base, startedAt: prev.startedAt ?? base.startedAt, resumes, fingerprint: fp };
}

export async function runBench(cfg: BenchConfig, opts: RunOptions): Promise<RunOutcome> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const plan = opts.plan ?? (await checkedPlan(cfg, { methods: opts.methods, metrics: opts.metrics }, opts.configPath));
  const backend = await initBackend(cfg.backend as never);
  const store = new RunStore(opts.dir, { resume: opts.resume ?? false, forceUnlock: opts.forceUnlock, log });
  try {
    return await runLocked(cfg, opts, plan, store, { name: backend.name, requested: backend.requested }, log);
  } finally {
    store.close();
  }
}

async function runLocked(cfg: BenchConfig, opts: RunOptions, plan: RunPlan, store: RunStore, backend: { name: string; requested: string }, log: (s: string) => void): Promise<RunOutcome> {
  const shard = opts.shard ?? WHOLE_RUN;
  const phase = opts.phase ?? 'all';
  const { set, bundle, samples } = await loadInputs(cfg, opts, plan, shard, phase, log);
  try {
    const fp = await fingerprintRun({ cfg, plan, samples, shard, limit: opts.limit });
    checkSameRun(store, fp, phase);
    const mine = samples.map((s, i) => ({ s, i })).filter(({ i }) => i % shard.count === shard.index);
    store.writeConfig(toYaml(cfg));
    const comparison = cfg.compare ? comparisonFor(cfg.compare, loadPublished(cfg.compare, PUBLISHED_DIR), plan, { model: bundle.model, datasetKind: set.kind, samples: samples.length }) : undefined;
    const base = buildRunInfo({ runId: opts.runId, configPath: opts.configPath, cfg, model: bundle.model, set, samples: samples.length, backend, shard, plan, comparison, threads: opts.threads ?? 1 });
    const runInfo = runInfoOf(store, base, fp, backend.name);
    store.writeRunInfo(runInfo);
    // Rows the loader could not use are failures of this run too: recorded by the shard that holds
    // sample 0's records (not the merge step), once — a resume or a rerun finds them already there.
    if (shard.index === 0 && phase !== 'dataset') {
      for (const e of set.errors) store.appendError({ stage: 'load', sampleId: e.id, file: e.file, row: e.row, column: e.column, reason: e.reason, ...(e.severity === 'warning' ? { severity: 'warning' as const } : {}) });
    }
    const written = await runPhases(cfg, opts, plan, store, { bundle, samples, mine, phase, shard, backend: backend.name, log });
    store.writeRunInfo({ ...runInfo, finishedAt: new Date().toISOString() });
    const f = store.failures();
    return { dir: opts.dir, records: written, resumed: store.resumedResults, failures: f.total, warnings: f.warnings, samples: mine.length };
  } finally {
    bundle.model.dispose();
  }
}

interface PhaseInputs {
  bundle: ModelBundle;
  samples: Sample[];
  mine: { s: Sample; i: number }[];
  phase: Phase;
  shard: Shard;
  backend: string;
  log: (s: string) => void;
}

async function runPhases(cfg: BenchConfig, opts: RunOptions, plan: RunPlan, store: RunStore, p: PhaseInputs): Promise<number> {
  const kept: KeptMaps = new Map();
  let written = 0;
  if (p.phase !== 'dataset') {
    const progress = createProgress(opts.progress ?? false, p.mine.length * plan.units.length, p.log);
    // --threads: a worker pool the pair phase shares each pair's work over (the issue-18 hook).
    const pool = await openPool(p.bundle.model, opts.threads ?? 1);
    try {
      const sink = mapSink(p.phase, store, kept);
      written = await runPairPhase({ cfg, plan, bundle: p.bundle, store, backend: p.backend, shardIndex: p.shard.index, keepMap: sink, progress, pool }, p.mine);
    } finally {
      progress.stop();
      await pool?.close();
    }
  }
  // Dataset metrics need every sample: they run where the whole set is (not in shards).
  if (p.phase !== 'pairs' && plan.datasetMetrics.length) {
    await runDatasetPhase({ cfg, plan, bundle: p.bundle, store, samples: p.samples, kept, dir: opts.dir, log: p.log });
    // The shards' maps were only kept for this step (tens of MB): once every outcome is recorded, the records hold them.
    const done = plan.datasetMetrics.every((d) => d.units.every((u) => store.hasDatasetMetric({ metric: d.name, method: u.method, side: u.side, point: u.point.key })));
    if (done) removeKeptMaps(expandRunDirs([opts.dir]));
  }
  return written;
}
