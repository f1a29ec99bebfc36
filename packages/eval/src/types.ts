// The metric contract. Each metric declares what the harness needs to know — its category,
// each output's direction (and whether it is a 0/1 outcome), its substrate, its params, what a
// sample must have for it to apply, its curves and their axes, the protocol it reproduces —
// so the bench and the report read declarations, never names. Per-pair metrics score one
// explanation at a time; dataset metrics (ROAR, model randomisation) run over the whole set.
import { resolveOptions, type Attribution, type ClipModel, type Explainer, type OptionSpec, type PairCache, type PairInput, type WorkerPool } from '@ceb/core';
import type { Sample } from '@ceb/datasets';
import type { Box, Side } from '@ceb/types';

/** What every metric returns: named numbers, and optionally curves and per-pair facts. */
export interface MetricResult {
  values: Record<string, number>;
  /** e.g. the insertion and deletion curves (score per step); keys are declared in `curves`. */
  curves?: Record<string, number[]>;
  /** Per-pair facts the record must carry (the clean and perturbed scores, the step actually used). */
  meta?: Record<string, string | number | boolean>;
  /** Per output: what a map that knows nothing scores on this sample (declared in `chance`). */
  chance?: Record<string, number>;
}

export interface PairMetricContext {
  model: ClipModel;
  pair: PairInput;
  /** Clean embeddings of this pair, shared with the explainers; the caller disposes it. */
  cache: PairCache;
  attribution: Attribution;
  /** Boxes already mapped to model input pixels (localisation needs them). */
  sample?: { boxes?: Box[] };
  /** --threads: a pool to share a metric's forward passes over (absent: this thread alone). */
  pool?: WorkerPool;
}

export type ParamValues = Record<string, number | boolean | string>;

/** What a metric measures (Quantus's evaluation categories, narrowed to this harness's). */
export type MetricCategory = 'faithfulness' | 'localisation' | 'randomisation';

/** One curve a metric returns: what it is and what its axes are. */
export interface CurveSpec {
  /** 'score': a quality curve, drawn; 'internal': bookkeeping (e.g. units removed per step), never drawn as a score. */
  kind: 'score' | 'internal';
  x: string;
  y: string;
  /** For a score curve: whether a higher curve is better. */
  higherIsBetter?: boolean;
}

interface MetricBase {
  name: string;
  description: string;
  category: MetricCategory;
  /** Per output key: true when a larger value means a better attribution. */
  higherIsBetter: Record<string, boolean>;
  /**
   * Outputs that take two values per pair, with the value of a "yes" (pointing 1, confidence
   * increase 100): paired comparisons treat them as binary outcomes.
   */
  binary?: Record<string, number>;
  /** Per output: what it is measured in, so a published table's column can be matched to it (e.g. 'cosine×100'). */
  units?: Record<string, string>;
  /** What a removed pixel / token becomes. */
  substrate: string;
  params: Record<string, OptionSpec>;
  sides: readonly Side[];
  /** The published protocol the metric reproduces (shown beside its numbers), e.g. 'm2ib'. */
  protocol?: string;
  /** The outputs compact tables show (the terminal's summary); all when absent. Every output is in summary.json and the report. */
  headline?: readonly string[];
}

export interface PairMetric<P extends ParamValues = ParamValues> extends MetricBase {
  kind: 'pair';
  /** What a sample must have for the metric to apply (localisation: ground-truth boxes). */
  needs?: { boxes?: boolean };
  /** The curves it returns, by key. */
  curves?: Record<string, CurveSpec>;
  /** Outputs for which it returns a per-sample chance level. */
  chance?: readonly string[];
  evaluate(ctx: PairMetricContext, params?: Partial<P>): Promise<MetricResult>;
}

/** One method setting a dataset metric evaluates. */
export interface DatasetUnit {
  method: string;
  explainer: Explainer<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  side: Side;
  /** The sweep point's key (`default` when nothing is swept). */
  point: string;
  options: Record<string, unknown>;
}

/** The outcome of a dataset metric for one unit: what goes into dataset-metrics.jsonl. */
export interface DatasetOutcome {
  values: Record<string, number>;
  curve?: { x: number[]; y: number[]; baseline?: number[] };
  /** Images or pairs the value was computed over. */
  n: number;
  ms: number;
}

/** What the bench gives a dataset metric: the whole set, its method settings, and where outcomes go. */
export interface DatasetMetricContext {
  model: ClipModel;
  /** Every sample of the run, in plan order. */
  samples: readonly Sample[];
  /** The units to evaluate (those already recorded are left out by the bench). */
  units: readonly DatasetUnit[];
  params: ParamValues;
  /** The pair of a sample, or undefined when it cannot be loaded (its failure is already recorded). The caller disposes pair.pixels. */
  loadPair(sample: Sample): Promise<PairInput | undefined>;
  /** The image map of a unit for a sample: kept from the pair phase where it was, else explained now. */
  mapOf(unit: DatasetUnit, sample: Sample, pair: PairInput): Promise<Float32Array>;
  record(unit: DatasetUnit, outcome: DatasetOutcome): void;
  /** A failure of the metric, for one unit or (no unit) for all of them. */
  fail(unit: DatasetUnit | undefined, reason: string): void;
  log(line: string): void;
}

export interface DatasetMetric extends MetricBase {
  kind: 'dataset';
  /** The sides whose image maps the pair phase keeps for this metric (ROAR re-ranks pixels by them). */
  keepsMaps?: readonly Side[];
  /** The curve each outcome carries, and what its baseline is. */
  curve?: { x: string; y: string; baseline?: string; note: string };
  run(ctx: DatasetMetricContext): Promise<void>;
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
