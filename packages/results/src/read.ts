/**
 * Reading run folders (one run, a run still in progress, or the shards of one run) and the
 * per-method summary (mean and seeded 95% bootstrap CI) that both summary.json and the report use.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { meanCI } from '@ceb/eval';
import type {
  DatasetMetricRecord,
  ErrorRecord,
  GallerySample,
  MetricInfo,
  MethodInfo,
  ResultRecord,
  Run,
  RunInfo,
  RuntimeRow,
  Summary,
  SummaryRow,
} from './types';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`Cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: invalid JSON (${(e as Error).message})`, { cause: e });
  }
}

/**
 * Parse a JSON Lines file. A last line without its newline that does not parse is a record
 * still being written (the run is going on, or was killed mid-write): it is skipped with a
 * warning. Any other bad line is an error naming the file and line.
 */
/** The parsed records of a JSONL file with their 1-based line numbers (blank lines count). */
function readJsonlLines(file: string, warnings: string[]): { value: unknown; line: number }[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: { value: unknown; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    try {
      out.push({ value: JSON.parse(line), line: i + 1 });
    } catch (e) {
      // The final segment has no trailing newline exactly when it is unfinished.
      if (i === lines.length - 1) {
        warnings.push(`${file}:${i + 1}: skipped a partial last line (record still being written)`);
        continue;
      }
      throw new Error(`${file}:${i + 1}: invalid JSON (${(e as Error).message})`, { cause: e });
    }
  }
  return out;
}

export function readJsonl(file: string, warnings: string[] = []): unknown[] {
  return readJsonlLines(file, warnings).map((r) => r.value);
}

function need(cond: boolean, file: string, line: number, field: string, expected: string): void {
  if (!cond) throw new Error(`${file}:${line}: field "${field}" must be ${expected}`);
}

/** The fields a result and a dataset-metric record share: an object, its string keys, side, values. */
function checkKeyed(r: unknown, file: string, line: number, keys: readonly string[]): Record<string, unknown> {
  need(isObj(r), file, line, '(record)', 'a JSON object');
  const o = r as Record<string, unknown>;
  for (const f of keys) need(typeof o[f] === 'string', file, line, f, 'a string');
  need(o.side === 'image' || o.side === 'text', file, line, 'side', '"image" or "text"');
  need(isObj(o.values), file, line, 'values', 'an object of numbers or null');
  return o;
}

function checkResult(r: unknown, file: string, line: number): ResultRecord {
  const o = checkKeyed(r, file, line, ['sampleId', 'method', 'point']);
  for (const [k, v] of Object.entries(o.values as object)) {
    need(v === null || typeof v === 'number', file, line, `values.${k}`, 'a number or null');
  }
  if (o.curves !== undefined) {
    need(isObj(o.curves), file, line, 'curves', 'an object of number arrays');
    for (const [k, v] of Object.entries(o.curves as object)) {
      need(Array.isArray(v) && v.every((x) => typeof x === 'number'), file, line, `curves.${k}`, 'an array of numbers');
    }
  }
  if (o.ms !== undefined) need(typeof o.ms === 'number', file, line, 'ms', 'a number');
  return o as unknown as ResultRecord;
}

function checkDatasetMetric(r: unknown, file: string, line: number): DatasetMetricRecord {
  const o = checkKeyed(r, file, line, ['metric', 'method', 'point']);
  if (o.curve !== undefined) {
    const c = o.curve as Record<string, unknown>;
    need(isObj(c) && Array.isArray(c.x) && Array.isArray(c.y) && c.x.length === c.y.length, file, line, 'curve', 'an object with arrays x and y of the same length');
    if (c.baseline !== undefined) need(Array.isArray(c.baseline) && c.baseline.length === (c.x as unknown[]).length, file, line, 'curve.baseline', 'an array as long as curve.x');
  }
  return o as unknown as DatasetMetricRecord;
}

function checkError(r: unknown, file: string, line: number): ErrorRecord {
  need(isObj(r), file, line, '(record)', 'a JSON object');
  const o = r as Record<string, unknown>;
  need(typeof o.stage === 'string', file, line, 'stage', 'a string');
  need(typeof o.reason === 'string', file, line, 'reason', 'a string');
  return o as unknown as ErrorRecord;
}

/** readJsonl plus a per-record check that names the record's line. */
function readChecked<T>(file: string, warnings: string[], check: (r: unknown, file: string, line: number) => T): T[] {
  return readJsonlLines(file, warnings).map(({ value, line }) => check(value, file, line));
}

function readGallery(dir: string, warnings: string[]): GallerySample[] {
  const g = join(dir, 'gallery');
  if (!existsSync(g)) return [];
  const out: GallerySample[] = [];
  for (const slug of readdirSync(g).sort()) {
    const sdir = join(g, slug);
    if (!statSync(sdir).isDirectory()) continue;
    const file = join(sdir, 'sample.json');
    if (!existsSync(file)) {
      warnings.push(`${sdir}: no sample.json (gallery entry still being written?), skipped`);
      continue;
    }
    const s = readJson(file);
    if (!isObj(s) || typeof s.sampleId !== 'string' || !Array.isArray(s.maps)) {
      throw new Error(`${file}: expected an object with sampleId (string) and maps (array)`);
    }
    out.push({
      sampleId: s.sampleId,
      caption: typeof s.caption === 'string' ? s.caption : '',
      tokens: Array.isArray(s.tokens) ? s.tokens.map(String) : [],
      boxes: Array.isArray(s.boxes) ? (s.boxes as GallerySample['boxes']) : [],
      image: typeof s.image === 'string' ? s.image : 'input.png',
      maps: s.maps as GallerySample['maps'],
      dir: sdir,
    });
  }
  return out;
}

/** Read one run folder (a whole run or one shard). */
export function readRun(dir: string): Run {
  const abs = resolve(dir);
  const runFile = join(abs, 'run.json');
  if (!existsSync(runFile)) throw new Error(`${abs} is not a run folder: it has no run.json`);
  const info = readJson(runFile);
  if (!isObj(info) || typeof info.runId !== 'string') throw new Error(`${runFile}: field "runId" must be a string`);
  const warnings: string[] = [];
  const yamlFile = join(abs, 'config.resolved.yaml');
  return {
    dirs: [abs],
    info: info as unknown as RunInfo,
    configYaml: existsSync(yamlFile) ? readFileSync(yamlFile, 'utf8') : undefined,
    records: readChecked(join(abs, 'results.jsonl'), warnings, checkResult),
    datasetMetrics: readChecked(join(abs, 'dataset-metrics.jsonl'), warnings, checkDatasetMetric),
    errors: readChecked(join(abs, 'errors.jsonl'), warnings, checkError),
    gallery: readGallery(abs, warnings),
    inProgress: typeof info.finishedAt !== 'string',
    warnings,
    duplicates: 0,
  };
}

/**
 * A run folder expands to itself (when it has run.json) and the shard folders inside it
 * (shard-<i>-of-<n>/ with a run.json): a --workers run keeps its merge-step files in the
 * folder and its records in the shards; a Slurm array leaves only the shards.
 */
export function expandRunDirs(dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    const abs = resolve(d);
    const shards =
      existsSync(abs) && statSync(abs).isDirectory()
        ? readdirSync(abs)
            .filter((n) => /^shard-\d+-of-\d+$/.test(n) && existsSync(join(abs, n, 'run.json')))
            .sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]))
            .map((n) => join(abs, n))
        : [];
    // A folder with neither is passed on, for the reader to say what is missing.
    if (existsSync(join(abs, 'run.json')) || shards.length === 0) out.push(abs);
    out.push(...shards);
  }
  return out;
}

/** JSON with object keys sorted, so two configs compare equal whatever their key order. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (isObj(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export const recordIdentity = (r: { sampleId: string; method: string; side: string; point: string }): string =>
  JSON.stringify([r.sampleId, r.method, r.side, r.point]);

function unionBy<T>(lists: (T[] | undefined)[], key: (t: T) => string): T[] | undefined {
  if (lists.every((l) => l === undefined)) return undefined;
  const seen = new Map<string, T>();
  for (const l of lists) for (const t of l ?? []) if (!seen.has(key(t))) seen.set(key(t), t);
  return [...seen.values()];
}

/**
 * Read several folders (shards of one run, or a folder of shards) and merge them: records,
 * dataset metrics and errors concatenated, duplicate identities dropped (counted in
 * `duplicates` and a warning), gallery folders from every shard.
 */
export function readRuns(dirs: string[]): Run {
  if (dirs.length === 0) throw new Error('readRuns: no run folder given');
  const runs = expandRunDirs(dirs).map(readRun);
  if (runs.length === 1) return runs[0];
  const first = runs[0];
  for (const r of runs.slice(1)) {
    const sameId = r.info.runId === first.info.runId;
    const sameConfig = r.info.config !== undefined && stableJson(r.info.config) === stableJson(first.info.config);
    if (!sameId && !sameConfig) {
      throw new Error(
        `Cannot merge ${r.dirs[0]} (runId "${r.info.runId}") with ${first.dirs[0]} (runId "${first.info.runId}"): neither the runId nor the config is the same`,
      );
    }
  }
  const warnings = runs.flatMap((r) => r.warnings);
  const seen = new Set<string>();
  const records: ResultRecord[] = [];
  let duplicates = 0;
  for (const r of runs) {
    for (const rec of r.records) {
      const id = recordIdentity(rec);
      if (seen.has(id)) duplicates++;
      else {
        seen.add(id);
        records.push(rec);
      }
    }
  }
  const dseen = new Set<string>();
  const datasetMetrics: DatasetMetricRecord[] = [];
  let ddup = 0;
  for (const r of runs) {
    for (const rec of r.datasetMetrics) {
      const id = JSON.stringify([rec.metric, rec.method, rec.side, rec.point]);
      if (dseen.has(id)) ddup++;
      else {
        dseen.add(id);
        datasetMetrics.push(rec);
      }
    }
  }
  if (duplicates > 0) warnings.push(`${duplicates} duplicate result record(s) (same sample, method, side, point in several shards) dropped; the first kept`);
  if (ddup > 0) warnings.push(`${ddup} duplicate dataset-metric record(s) dropped; the first kept`);
  const gseen = new Set<string>();
  const gallery = runs.flatMap((r) => r.gallery).filter((g) => (gseen.has(g.sampleId) ? false : (gseen.add(g.sampleId), true)));
  const finished = runs.map((r) => r.info.finishedAt);
  const info: RunInfo = {
    ...first.info,
    startedAt: runs.map((r) => r.info.startedAt).filter((s): s is string => !!s).sort()[0],
    finishedAt: finished.every((f) => typeof f === 'string') ? (finished as string[]).sort().at(-1) : undefined,
    shard: { index: -1, count: first.info.shard?.count ?? runs.length },
    methods: unionBy(runs.map((r) => r.info.methods), (m: MethodInfo) => m.name),
    metrics: unionBy(runs.map((r) => r.info.metrics), (m: MetricInfo) => m.name),
  };
  // Methods of one name: union of their points across shards.
  if (info.methods) {
    info.methods = info.methods.map((m) => {
      const points = unionBy(
        runs.map((r) => r.info.methods?.find((x) => x.name === m.name)?.points),
        (p) => p.key,
      );
      return { ...m, points: points ?? m.points };
    });
  }
  return {
    dirs: runs.flatMap((r) => r.dirs),
    info,
    configYaml: runs.find((r) => r.configYaml !== undefined)?.configYaml,
    records,
    datasetMetrics,
    errors: runs.flatMap((r) => r.errors),
    gallery,
    inProgress: runs.some((r) => r.inProgress),
    warnings,
    duplicates,
  };
}

/** Failures as the header counts them: distinct failed samples + errors not tied to a sample. */
export function countFailures(errors: ErrorRecord[]): { total: number; samples: number; other: number; records: number } {
  const ids = new Set(errors.filter((e) => typeof e.sampleId === 'string' && e.sampleId !== '').map((e) => e.sampleId));
  const other = errors.filter((e) => !(typeof e.sampleId === 'string' && e.sampleId !== '')).length;
  return { total: ids.size + other, samples: ids.size, other, records: errors.length };
}

export interface SummarizeOptions {
  seed: number;
  resamples?: number;
  level?: number;
  runId?: string;
  failures?: number;
}

function splitKey(key: string): { metric: string; output: string } {
  const i = key.indexOf('.');
  return i < 0 ? { metric: key, output: '' } : { metric: key.slice(0, i), output: key.slice(i + 1) };
}

/** Group key of (method, side, point). */
const groupKey = (r: { method: string; side: string; point: string }): string => JSON.stringify([r.method, r.side, r.point]);

/**
 * Mean and percentile-bootstrap CI per method x side x point x metric output, and per
 * method x side x point for the runtime. Values enter in sampleId order, so the numbers do not
 * depend on record order (one folder and its shards give the same summary). Pure.
 */
export function summarize(records: ResultRecord[], metricsInfo: MetricInfo[] | undefined, opts: SummarizeOptions): Summary {
  const ci = { seed: opts.seed, resamples: opts.resamples ?? 2000, level: opts.level ?? 0.95 };
  const info = new Map((metricsInfo ?? []).map((m) => [m.name, m]));
  const groups = new Map<string, ResultRecord[]>();
  for (const r of records) {
    const k = groupKey(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const rows: SummaryRow[] = [];
  const runtime: RuntimeRow[] = [];
  for (const recs of groups.values()) {
    recs.sort((a, b) => (a.sampleId < b.sampleId ? -1 : a.sampleId > b.sampleId ? 1 : 0));
    const { method, side, point } = recs[0];
    const keys: string[] = [];
    for (const r of recs) for (const k of Object.keys(r.values)) if (!keys.includes(k)) keys.push(k);
    for (const key of keys) {
      const vals = recs.map((r) => r.values[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      const s = meanCI(vals, ci);
      const { metric, output } = splitKey(key);
      const m = info.get(metric);
      const hib = m?.outputs?.[output];
      rows.push({
        method,
        side,
        point,
        key,
        metric,
        output,
        mean: s.mean,
        lo: s.lo,
        hi: s.hi,
        n: s.n,
        higherIsBetter: typeof hib === 'boolean' ? hib : null,
        ...(m?.substrate !== undefined ? { substrate: m.substrate } : {}),
        ...(m?.mode !== undefined ? { mode: m.mode } : {}),
      });
    }
    const ms = recs.map((r) => r.ms).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (ms.length > 0) runtime.push({ method, side, point, ...meanCI(ms, ci) });
  }
  return {
    ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
    samples: new Set(records.map((r) => r.sampleId)).size,
    ...(opts.failures !== undefined ? { failures: opts.failures } : {}),
    rows,
    runtime,
  };
}
