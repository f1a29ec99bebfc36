// The run plan, built once from the config before any work: every method × side × sweep
// point (a unit) with its options resolved and checked, the pair metrics that apply to each
// with their params resolved, and each dataset metric with the units it evaluates. The
// phases only walk the plan; nothing downstream asks the raw config which metric applies.
import { resolveLayer, type OptionSpec, type OptionValues } from '@ceb/core';
import { METHODS, type AnyExplainer } from '@ceb/methods';
import { METRICS, resolveParams, type DatasetMetric, type Metric, type PairMetric, type ParamValues } from '@ceb/eval';
import type { Side } from '@ceb/types';
import type { BenchConfig } from './config/schema';
import { methodPoints, type SweepPoint } from './config/sweep';
import type { ModelGeometry } from './geometry';

export interface PlannedMetric<M extends Metric = PairMetric> {
  name: string;
  metric: M;
  /** Every param, defaults filled and checked; `seed` defaults to the run's seed. */
  params: ParamValues;
}

/** One method on one side at one sweep point. */
export interface PlanUnit {
  method: string;
  explainer: AnyExplainer;
  side: Side;
  point: SweepPoint;
  /** The pair metrics scored on each of its explanations. */
  metrics: PlannedMetric[];
}

export interface PlannedDatasetMetric extends PlannedMetric<DatasetMetric> {
  units: PlanUnit[];
}

export interface RunPlan {
  units: PlanUnit[];
  pairMetrics: PlannedMetric[];
  datasetMetrics: PlannedDatasetMetric[];
}

export interface PlanFilters {
  /** --methods: only these of the config's methods. */
  methods?: string[];
  /** --metrics: only these of the config's metrics. */
  metrics?: string[];
}

/** A filter that names something the config does not have cannot select anything: an error, before any work. */
function checkFilter(flag: string, wanted: string[] | undefined, have: string[]): void {
  const unknown = (wanted ?? []).filter((w) => !have.includes(w));
  if (unknown.length) throw new Error(`${flag} ${unknown.join(',')}: not ${unknown.length > 1 ? 'among' : 'one of'} this config's ${flag.slice(2)} (${have.join(', ')})`);
}

/** A metric's own params from the config (without the bench's `methods` filter), resolved; seed defaults to the run's. */
function metricParams(cfg: BenchConfig, name: string, metric: Metric): ParamValues {
  const { methods, ...given } = cfg.metrics[name] ?? {};
  void methods;
  const withSeed = 'seed' in metric.params && given.seed === undefined ? { ...given, seed: cfg.seed } : given;
  return resolveParams(`metrics.${name}`, metric.params, withSeed as Partial<ParamValues>);
}

/** Whether a metric runs for a method (all of the run's methods unless the metric lists some). */
function appliesTo(cfg: BenchConfig, metric: string, method: string): boolean {
  const methods = cfg.metrics[metric]?.methods;
  return !methods || methods.includes(method);
}

export function buildPlan(cfg: BenchConfig, filters: PlanFilters = {}): RunPlan {
  checkFilter('--methods', filters.methods, Object.keys(cfg.methods));
  checkFilter('--metrics', filters.metrics, Object.keys(cfg.metrics));
  const metricNames = Object.keys(cfg.metrics).filter((m) => !filters.metrics || filters.metrics.includes(m));
  const planned = metricNames.map((name) => ({ name, metric: METRICS[name], params: metricParams(cfg, name, METRICS[name]) }));
  const pairMetrics = planned.filter((m): m is PlannedMetric => m.metric.kind === 'pair');
  const units: PlanUnit[] = [];
  for (const [method, entry] of Object.entries(cfg.methods)) {
    if (filters.methods && !filters.methods.includes(method)) continue;
    const explainer = METHODS[method];
    for (const side of explainer.sides.filter((s) => !entry?.sides || entry.sides.includes(s))) {
      for (const point of methodPoints(method, entry, side, cfg.seed)) {
        const metrics = pairMetrics.filter((m) => m.metric.sides.includes(side) && appliesTo(cfg, m.name, method));
        units.push({ method, explainer, side, point, metrics });
      }
    }
  }
  const datasetMetrics = planned
    .filter((m): m is PlannedMetric<DatasetMetric> => m.metric.kind === 'dataset')
    .map((m) => ({ ...m, units: units.filter((u) => m.metric.sides.includes(u.side) && appliesTo(cfg, m.name, u.method)) }));
  return { units, pairMetrics, datasetMetrics };
}

/** The units of each method in plan order: what run.json lists. */
export function methodsOf(plan: RunPlan): { name: string; sides: Side[]; points: Point[]; pointsBySide: Partial<Record<Side, Point[]>>; note?: string }[] {
  const names = [...new Set(plan.units.map((u) => u.method))];
  return names.map((name) => {
    const units = plan.units.filter((u) => u.method === name);
    const sides = [...new Set(units.map((u) => u.side))];
    const note = units[0].explainer.note;
    const pointsOf = (side: Side): Point[] => units.filter((u) => u.side === side).map((u) => ({ key: u.point.key, options: u.point.options }));
    const pointsBySide = Object.fromEntries(sides.map((s) => [s, pointsOf(s)]));
    return { name, sides, points: pointsOf(sides[0]), pointsBySide, ...(note ? { note } : {}) };
  });
}

type Point = { key: string; options: OptionValues };

/** A setting that cannot run on any sample of this model or data set: the key path, its value and why. */
export interface PlanProblem {
  key: string;
  value: unknown;
  message: string;
}

/** Where a unit's option value comes from in the config: the side block, the method's entry, or the default. */
function optionPath(cfg: BenchConfig, u: PlanUnit, key: string): string {
  const entry = cfg.methods[u.method] ?? {};
  if ((entry[u.side] as Record<string, unknown> | undefined)?.[key] !== undefined) return `methods.${u.method}.${u.side}.${key}`;
  return entry[key] !== undefined ? `methods.${u.method}.${key}` : `methods.${u.method}.${key} (its default)`;
}

/** Every layer option of every unit against the explained tower's blocks (out of range, or a last block the method refuses). */
function layerProblems(plan: RunPlan, cfg: BenchConfig, g: ModelGeometry): PlanProblem[] {
  const out = new Map<string, PlanProblem>();
  for (const u of plan.units) {
    const tower = u.side === 'image' ? g.vision : g.text;
    for (const [key, spec] of Object.entries(u.explainer.options as Record<string, OptionSpec>)) {
      if (!spec.layer) continue;
      const value = u.point.options[key] as number;
      const path = optionPath(cfg, u, key);
      try {
        resolveLayer(spec.layer, value, tower.numLayers, `${path}:`, u.side === 'image' ? 'vision' : 'text');
      } catch (e) {
        const message = `${(e as Error).message} (${u.method}, ${u.side} side; ${tower.numLayers} blocks per ${g.source})`;
        out.set(`${path}|${value}|${u.side}`, { key: path, value, message });
      }
    }
  }
  return [...out.values()];
}

/**
 * What cannot pass on any sample, found from the plan, the model's geometry and the data set's
 * kind before any work: a layer out of range or refused, a metric that needs boxes on a data set
 * without them. `--dry-run` prints them; a real run stops on them.
 */
export function checkPlan(plan: RunPlan, cfg: BenchConfig, geometry: ModelGeometry, datasetHasBoxes: boolean): PlanProblem[] {
  const problems = layerProblems(plan, cfg, geometry);
  if (!datasetHasBoxes) {
    for (const m of plan.pairMetrics) {
      if (!m.metric.needs?.boxes || !plan.units.some((u) => u.metrics.includes(m))) continue;
      problems.push({ key: `metrics.${m.name}`, value: cfg.metrics[m.name] ?? {}, message: `metrics.${m.name}: needs ground-truth boxes, and a "${cfg.dataset.kind}" data set has none; drop it from this config` });
    }
  }
  return problems;
}

/** A plan that cannot run: every problem, one per line. */
export class PlanError extends Error {
  override name = 'PlanError';
  constructor(
    readonly problems: PlanProblem[],
    where: string,
  ) {
    super(`${where}: the plan cannot run on this model / data set (nothing was started):\n${problems.map((p) => `  ${p.message}`).join('\n')}`);
  }
}
