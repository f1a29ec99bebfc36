/**
 * The results format (docs/results-format.md): what `pnpm bench` writes and the report reads.
 * Fields the report does not need are typed loosely so that a newer bench does not break it.
 */

import type { Box, Side } from '@ceb/types';

/** A curve a metric records, as the metric declares it. */
export interface CurveInfo {
  /** 'score' curves are drawn; 'internal' ones (bookkeeping) never are. */
  kind: 'score' | 'internal' | string;
  x: string;
  y: string;
  higherIsBetter?: boolean;
}

/** A metric as run.json describes it: its declarations, so readers need no metric names. */
export interface MetricInfo {
  name: string;
  kind?: 'pair' | 'dataset' | string;
  /** output key -> higherIsBetter */
  outputs: Record<string, boolean>;
  substrate?: string;
  params?: Record<string, unknown>;
  /** The protocol it reproduces, e.g. 'm2ib' or 'corrected' for the confidence metrics. */
  mode?: string;
  /** faithfulness | localisation | randomisation */
  category?: string;
  /** Outputs with two values per pair, and the value of a "yes". */
  binary?: Record<string, number>;
  /** What each output is measured in. */
  units?: Record<string, string>;
  /** Pair metrics: the curves each record carries. */
  curves?: Record<string, CurveInfo>;
  /** Dataset metrics: the curve each outcome carries. */
  curve?: { x: string; y: string; baseline?: string; note?: string };
  /** The outputs compact tables show; all when absent. */
  headline?: string[];
  /** `methods: [..]` in the config: the methods it runs for (all when absent). */
  methods?: string[];
}

export interface MethodPoint {
  key: string;
  options: Record<string, unknown>;
}

export interface MethodInfo {
  name: string;
  sides: Side[];
  /** The first side's points. */
  points: MethodPoint[];
  /** Each side's points (they differ where the config overrides a side); absent in runs written before. */
  pointsBySide?: Partial<Record<Side, MethodPoint[]>>;
  /** What a reader must know beside the method's numbers (e.g. what M2IB's sigma2 means). */
  note?: string;
}

export interface RunInfo {
  runId: string;
  version?: string;
  startedAt?: string;
  /** Absent while the run is still going. */
  finishedAt?: string;
  configPath?: string;
  config?: unknown;
  model?: {
    path?: string;
    layout?: string;
    /** Departures from standard CLIP the run used (parity quirks), in words; absent or [] if none. */
    quirks?: string[];
    vision?: Record<string, unknown>;
    text?: Record<string, unknown>;
    [k: string]: unknown;
  };
  dataset?: { name?: string; kind?: string; path?: string; samples?: number; split?: string; [k: string]: unknown };
  backend?: { name?: string; requested?: string; [k: string]: unknown };
  hardware?: { cpu?: string; cores?: number; memGiB?: number; node?: string; platform?: string; gpu?: string; [k: string]: unknown };
  seed?: number;
  shard?: { index: number; count: number };
  methods?: MethodInfo[];
  metrics?: MetricInfo[];
  /** The published table the config compares with. */
  comparison?: PublishedComparison;
}

/** A published table the run is compared with (config `compare:`), as run.json carries it. */
export interface PublishedComparison {
  /** `<table>/<data set>`, e.g. nib-readme/cc. */
  ref: string;
  title: string;
  source: { repository: string; file: string; commit: string; lines?: string };
  dataset: string;
  model: string;
  /** The metric the published numbers come from. */
  protocol: string;
  hardware: string;
  /** Each published column: the metric output it is (absent for columns no metric has, e.g. FPS), in which unit. */
  columns: { key: string; published: string; metric?: string; side?: Side; output?: string; unit: string; note?: string }[];
  /** Each published row: the harness method and options it corresponds to, or implemented: false. */
  rows: { published: string; method?: string; options?: Record<string, unknown>; implemented: boolean; note?: string; values: Record<string, number> }[];
  /** Where the run's setting differs from the published one, in words. */
  differences: string[];
}

/** One line of results.jsonl: one sample x method x side x sweep point. */
export interface ResultRecord {
  sampleId: string;
  method: string;
  side: Side;
  point: string;
  options?: Record<string, unknown>;
  /** `<metric>.<output>` -> value; null when undefined for this pair */
  values: Record<string, number | null>;
  curves?: Record<string, number[]>;
  /** Per output key, what a map that knows nothing scores on this sample (e.g. localisation). */
  chance?: Record<string, number>;
  /** Per-pair facts of each metric, `<metric>.<key>` -> value (e.g. the clean and perturbed scores). */
  meta?: Record<string, string | number | boolean | null>;
  flat?: boolean;
  ms?: number;
  metricMs?: Record<string, number>;
  backend?: string;
  seed?: number;
  shard?: number;
}

/** One line of dataset-metrics.jsonl (ROAR, sanity). */
export interface DatasetMetricRecord {
  metric: string;
  method: string;
  side: Side;
  point: string;
  values: Record<string, number | null>;
  curve?: { x: number[]; y: number[]; baseline?: number[] };
  n?: number;
  /** Wall time of the metric in milliseconds. */
  ms?: number;
}

/** One line of errors.jsonl. Only stage and reason are always present. */
export interface ErrorRecord {
  stage: string;
  reason: string;
  /** 'warning': recorded, the sample kept (e.g. a duplicated row kept once); absent = an error. */
  severity?: 'error' | 'warning';
  sampleId?: string;
  file?: string;
  row?: number;
  column?: string;
  method?: string;
  side?: string;
  point?: string;
  metric?: string;
}

export interface GalleryMap {
  method: string;
  point: string;
  side: Side;
  file: string;
}

/** gallery/<slug>/sample.json, plus the folder it was read from. */
export interface GallerySample {
  sampleId: string;
  caption: string;
  tokens: string[];
  boxes: Box[];
  image: string;
  maps: GalleryMap[];
  /** Absolute path of gallery/<slug>/ (not in the file). */
  dir: string;
}

/** A run (or several shards of one run, merged) as the report sees it. */
export interface Run {
  /** The folders read (one per shard). */
  dirs: string[];
  info: RunInfo;
  /** config.resolved.yaml of the first folder that has one. */
  configYaml?: string;
  records: ResultRecord[];
  datasetMetrics: DatasetMetricRecord[];
  errors: ErrorRecord[];
  gallery: GallerySample[];
  /** True when a folder has no finishedAt yet. */
  inProgress: boolean;
  /** Things the reader tolerated (partial trailing line, duplicates dropped...). */
  warnings: string[];
  /** Records dropped because their identity was already seen in another shard. */
  duplicates: number;
}

export interface SummaryRow {
  method: string;
  side: Side;
  point: string;
  key: string;
  metric: string;
  output: string;
  mean: number;
  lo: number;
  hi: number;
  /** Values that entered the mean (nulls left out). */
  n: number;
  /** null when run.json does not declare this output */
  higherIsBetter: boolean | null;
  substrate?: string;
  mode?: string;
}

export interface RuntimeRow {
  method: string;
  side: Side;
  point: string;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** summary.json */
export interface Summary {
  runId?: string;
  samples: number;
  failures?: number;
  rows: SummaryRow[];
  runtime: RuntimeRow[];
}
