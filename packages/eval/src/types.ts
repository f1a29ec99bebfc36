// The metric contract: per-pair metrics (one explanation at a time) and dataset metrics
// (ROAR, model randomisation), each declaring higherIsBetter per output, its substrate and params.
import { resolveOptions, type Attribution, type Box, type ClipModel, type OptionSpec, type PairCache, type PairInput, type Side } from '@ceb/core';

/** What every metric returns: named numbers, and optionally curves for the report's charts. */
export interface MetricResult {
  values: Record<string, number>;
  /** e.g. the insertion and deletion curves (score per step). */
  curves?: Record<string, number[]>;
  /** Non-numeric facts the record must carry (the mode, the substrate actually used). */
  meta?: Record<string, string | number | boolean>;
}

export interface PairMetricContext {
  model: ClipModel;
  pair: PairInput;
  /** Clean embeddings of this pair, shared with the explainers; the caller disposes it. */
  cache: PairCache;
  attribution: Attribution;
  /** Boxes already mapped to model input pixels (localisation needs them). */
  sample?: { boxes?: Box[] };
}

export type ParamValues = Record<string, number | boolean | string>;

interface MetricBase {
  name: string;
  description: string;
  /** Per output key: true when a larger value means a better attribution. */
  higherIsBetter: Record<string, boolean>;
  /** What a removed pixel / token becomes. */
  substrate: string;
  params: Record<string, OptionSpec>;
}

export interface PairMetric<P extends ParamValues = ParamValues> extends MetricBase {
  kind: 'pair';
  sides: readonly Side[];
  evaluate(ctx: PairMetricContext, params?: Partial<P>): Promise<MetricResult>;
}

/** Metrics that need every map of a split; run by the bench through their own functions (runRoar, sanityScore). */
export interface DatasetMetric extends MetricBase {
  kind: 'dataset';
  sides: readonly Side[];
}

export type Metric = PairMetric | DatasetMetric;

/** Fills defaults and checks every given param against its spec. */
export function resolveParams<P extends ParamValues>(metric: string, specs: Record<string, OptionSpec>, given: Partial<P> = {}): P {
  return resolveOptions<P>(specs, given, metric);
}

/** "0.1, 0.3" → [0.1, 0.3]; names the param in errors. */
export function parseNumberList(text: string, what: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const out = parts.map(Number);
  out.forEach((v, i) => {
    if (parts[i] === '' || !Number.isFinite(v)) throw new Error(`${what}: "${parts[i]}" in "${text}" is not a number`);
  });
  return out;
}
