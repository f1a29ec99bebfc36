// `pnpm bench --config FILE --dry-run`: the whole plan from the config and the model's geometry
// alone (no weights loaded, no image decoded, nothing written): the data set and its sample
// count, every method × side × sweep point with its metrics, the records the run will write,
// the problems that would stop it, and what it will cost per record, in total and per shard.
import { initBackend } from '@ceb/core';
import type { BenchConfig } from './config/schema';
import { missingInputs } from './config/schema';
import { describeScaling, defaultPerfFile, estimatePrefix, estimateUnit, readCostModel, type CostModel } from './cost';
import { datasetHasBoxes, loadDataset, SyntheticNotGenerated } from './data';
import { readModelGeometry, type ModelGeometry } from './geometry';
import { buildPlan, checkPlan, type PlanProblem, type RunPlan } from './plan';

export interface DryRunInput {
  cfg: BenchConfig;
  configPath: string;
  limit?: number;
  methods?: string[];
  metrics?: string[];
  /** Shards the run is split into (--workers N or --shard i/N). */
  shards: number;
  /** The bench:perf JSON to estimate from; default docs/perf/<backend>.json. */
  perfFile?: string;
}

export interface DryRunWarning {
  /** 'data': a data file is not there yet; 'cost': no estimate could be made. */
  kind: 'data' | 'cost';
  message: string;
}

export interface DryRunReport {
  lines: string[];
  problems: PlanProblem[];
  warnings: DryRunWarning[];
  /** Samples the run will use (undefined when it cannot be known before the data is there). */
  samples?: number;
  records: { pair?: number; dataset: number };
  /** Estimated milliseconds of the whole run and of the largest shard (explanations only). */
  estimate?: { perSampleMs: number; totalMs?: number; perShardMs?: number; file: string };
}

interface SampleCount {
  n?: number;
  approx: boolean;
  how: string;
}

/** The part of `n` samples a split keeps, when the split cannot be made without the data. */
function afterSplit(cfg: BenchConfig, n: number): number {
  const s = cfg.dataset.split;
  if (s.use === 'all') return n;
  return Math.round(n * (s.use === 'train' ? s.trainFraction : 1 - s.trainFraction));
}

/** Samples counted from the data files (no image decoded), or from `limit` when the files are not there. */
async function countSamples(cfg: BenchConfig, dataMissing: boolean, limit: number | undefined): Promise<SampleCount> {
  const d = cfg.dataset;
  const cap = (c: SampleCount): SampleCount => (limit !== undefined && c.n !== undefined && c.n > limit ? { ...c, n: limit, how: `${c.how}, first ${limit} (--limit)` } : c);
  if (!dataMissing) {
    try {
      const set = await loadDataset(cfg, () => {}, { verifyImages: 'none', generate: false });
      const bad = set.errors.filter((e) => e.severity !== 'warning').length;
      return cap({ n: set.samples.length, approx: false, how: `counted from ${set.path}${bad ? ` (${bad} row(s) unusable, recorded by the run)` : ''}` });
    } catch (e) {
      if (!(e instanceof SyntheticNotGenerated)) throw e;
      return cap({ n: afterSplit(cfg, d.kind === 'synthetic' ? d.count : 0), approx: d.split.use !== 'all', how: `${e.message}: ${d.kind === 'synthetic' ? d.count : '?'} images` });
    }
  }
  const from = d.limit ?? limit;
  if (from === undefined) return { approx: true, how: 'the data files are not there and the config sets no limit: the count is known once they are' };
  return cap({ n: afterSplit(cfg, from), approx: true, how: `the data files are not there yet: counted from ${d.limit !== undefined ? 'dataset.limit' : '--limit'} (${from})${d.split.use !== 'all' ? ', split applied by its fraction' : ''}` });
}

const fmt = (ms: number): string =>
  ms < 1000 ? `${ms.toFixed(0)} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : ms < 2 * 3600_000 ? `${(ms / 60_000).toFixed(1)} min` : ms < 48 * 3600_000 ? `${(ms / 3600_000).toFixed(1)} h` : `${(ms / 86_400_000).toFixed(1)} days`;

/** The cost model for the chosen backend, or why there is none. */
async function costModelFor(cfg: BenchConfig, perfFile: string | undefined): Promise<CostModel | string> {
  try {
    const backend = perfFile ? undefined : (await initBackend(cfg.backend as never)).name;
    return readCostModel(perfFile ?? defaultPerfFile(backend!));
  } catch (e) {
    return `no cost estimate: ${(e as Error).message}`;
  }
}

function geometryLines(g: ModelGeometry): string[] {
  return [
    `model geometry (${g.source}):`,
    `  vision: ${g.vision.numLayers} blocks (0…${g.vision.numLayers - 1}), width ${g.vision.hiddenSize}, ${g.vision.tokens} tokens (${g.vision.imageSize} px, patch ${g.vision.patchSize})`,
    `  text:   ${g.text.numLayers} blocks (0…${g.text.numLayers - 1}), width ${g.text.hiddenSize}, context ${g.text.maxPositions}`,
  ];
}

/** One line per unit: method, side, point, its estimate and its metrics; the per-sample sum of the units estimated. */
function unitLines(plan: RunPlan, cost: CostModel | undefined, g: ModelGeometry): { lines: string[]; perSampleMs?: number; unestimated: string[] } {
  const lines = [`plan: ${plan.units.length} method × side × sweep point unit(s)`];
  let sum = cost ? estimatePrefix(cost, g) : undefined;
  const unestimated: string[] = [];
  const name = (u: RunPlan['units'][number]) => `${u.method} ${u.side} ${u.point.key}`;
  const w = Math.max(...plan.units.map((u) => name(u).length));
  for (const u of plan.units) {
    const e = cost ? estimateUnit(cost, g, u) : undefined;
    if (e?.ms !== undefined && sum !== undefined) sum += e.ms;
    else if (e) unestimated.push(`${name(u)} (${e.how})`);
    const est = e ? (e.ms === undefined ? '  (not estimated)' : `  ≈ ${fmt(e.ms)}`) : '';
    lines.push(`  ${name(u).padEnd(w)}${est.padEnd(18)}  → ${u.metrics.map((m) => m.name).join(', ') || '(no pair metric)'}`);
  }
  for (const d of plan.datasetMetrics) lines.push(`  dataset metric ${d.name}: ${d.units.length} unit(s) (${d.units.map(name).join('; ')})`);
  return { lines, perSampleMs: sum, unestimated };
}

export async function dryRun(i: DryRunInput): Promise<DryRunReport> {
  const { cfg } = i;
  const plan = buildPlan(cfg, { methods: i.methods, metrics: i.metrics });
  const missing = missingInputs(cfg, i.configPath);
  if (missing.model.length) throw new Error(`cannot plan: ${missing.model.join('\n')}`);
  const geometry = await readModelGeometry(cfg.model);
  const problems = checkPlan(plan, cfg, geometry, datasetHasBoxes(cfg.dataset.kind));
  const warnings: DryRunWarning[] = missing.data.map((message) => ({ kind: 'data' as const, message }));
  const count = await countSamples(cfg, missing.data.length > 0, i.limit);
  const cost = await costModelFor(cfg, i.perfFile);
  if (typeof cost === 'string') warnings.push({ kind: 'cost', message: cost });
  const costModel = typeof cost === 'string' ? undefined : cost;
  const units = unitLines(plan, costModel, geometry);
  const n = count.n;
  const pair = n === undefined ? undefined : n * plan.units.length;
  const dataset = plan.datasetMetrics.reduce((a, d) => a + d.units.length, 0);
  const lines = [
    `dry run of ${i.configPath} (nothing is loaded, decoded or written)`,
    ...geometryLines(geometry),
    `data set: ${cfg.dataset.kind}, ${n === undefined ? 'samples unknown' : `${count.approx ? '≈ ' : ''}${n} sample(s)`} (${count.how})`,
    ...units.lines,
    `records: ${pair === undefined ? `${plan.units.length} per sample` : `${pair} in results.jsonl (${n} × ${plan.units.length})`}, ${dataset} in dataset-metrics.jsonl`,
  ];
  let estimate: DryRunReport['estimate'];
  if (costModel && units.perSampleMs !== undefined) {
    const per = units.perSampleMs;
    const perShard = n === undefined ? undefined : Math.ceil(n / i.shards) * per;
    estimate = { perSampleMs: per, totalMs: n === undefined ? undefined : n * per, perShardMs: perShard, file: costModel.file };
    lines.push(
      `estimate of the explanations on ${costModel.backend}, from ${costModel.file}: ≈ ${fmt(per / plan.units.length)} per record, ${fmt(per)} per sample` +
        (n === undefined ? '' : `, ≈ ${fmt(n * per)} in total${i.shards > 1 ? `, ≈ ${fmt(perShard!)} for each of ${i.shards} shards (run side by side)` : ''}`),
      `  scaling: ${describeScaling(costModel, geometry)}`,
    );
  }
  if (units.unestimated.length) lines.push(`  not in the estimate: ${units.unestimated.length} unit(s): ${units.unestimated.slice(0, 3).join('; ')}${units.unestimated.length > 3 ? '; …' : ''}`);
  for (const w of warnings) lines.push(`warning: ${w.message}`);
  lines.push(problems.length ? `${problems.length} problem(s): the run would stop before any work:` : 'the plan passes: every point can run on this model and data set');
  for (const p of problems) lines.push(`  ${p.message}`);
  return { lines, problems, warnings, samples: n, records: { pair, dataset }, estimate };
}
