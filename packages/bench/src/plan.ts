// The run plan, built once from the config before any work: every method × side × sweep
// point (a unit) with its options resolved and checked, the pair metrics that apply to each
// with their params resolved, and each dataset metric with the units it evaluates. The
// phases only walk the plan; nothing downstream asks the raw config which metric applies.
import type { OptionValues } from '@ceb/core';
import { METHODS, type AnyExplainer } from '@ceb/methods';
import { METRICS, resolveParams, type DatasetMetric, type Metric, type PairMetric, type ParamValues } from '@ceb/eval';
import type { Side } from '@ceb/types';
import type { BenchConfig } from './config/schema';
import { methodPoints, type SweepPoint } from './config/sweep';

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
export function methodsOf(plan: RunPlan): { name: string; sides: Side[]; points: { key: string; options: OptionValues }[]; note?: string }[] {
  const names = [...new Set(plan.units.map((u) => u.method))];
  return names.map((name) => {
    const units = plan.units.filter((u) => u.method === name);
    const sides = [...new Set(units.map((u) => u.side))];
    const note = units[0].explainer.note;
    return { name, sides, points: units.filter((u) => u.side === sides[0]).map((u) => ({ key: u.point.key, options: u.point.options })), ...(note ? { note } : {}) };
  });
}
