/**
 * Reading run folders: one run, a run still in progress, or the shards of one run merged.
 * Every record is checked as it is read, and a bad one is named by file and line.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { datasetIdentity, recordIdentity } from './identity';
import { readJsonlLines } from './jsonl';
import { expandRunDirs, FILES } from './layout';
import type { DatasetMetricRecord, ErrorRecord, GallerySample, MetricInfo, MethodInfo, ResultRecord, Run, RunInfo } from './types';

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
  const g = join(dir, FILES.gallery);
  if (!existsSync(g)) return [];
  const out: GallerySample[] = [];
  for (const slug of readdirSync(g).sort()) {
    const sdir = join(g, slug);
    if (!statSync(sdir).isDirectory()) continue;
    const file = join(sdir, FILES.sampleMeta);
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
      image: typeof s.image === 'string' ? s.image : FILES.galleryInput,
      maps: s.maps as GallerySample['maps'],
      dir: sdir,
    });
  }
  return out;
}

/** Read one run folder (a whole run or one shard). */
export function readRun(dir: string): Run {
  const abs = resolve(dir);
  const runFile = join(abs, FILES.run);
  if (!existsSync(runFile)) throw new Error(`${abs} is not a run folder: it has no run.json`);
  const info = readJson(runFile);
  if (!isObj(info) || typeof info.runId !== 'string') throw new Error(`${runFile}: field "runId" must be a string`);
  const warnings: string[] = [];
  const yamlFile = join(abs, FILES.config);
  return {
    dirs: [abs],
    info: info as unknown as RunInfo,
    configYaml: existsSync(yamlFile) ? readFileSync(yamlFile, 'utf8') : undefined,
    records: readChecked(join(abs, FILES.results), warnings, checkResult),
    datasetMetrics: readChecked(join(abs, FILES.datasetMetrics), warnings, checkDatasetMetric),
    errors: readChecked(join(abs, FILES.errors), warnings, checkError),
    gallery: readGallery(abs, warnings),
    inProgress: typeof info.finishedAt !== 'string',
    warnings,
    duplicates: 0,
  };
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

function unionBy<T>(lists: (T[] | undefined)[], key: (t: T) => string): T[] | undefined {
  if (lists.every((l) => l === undefined)) return undefined;
  const seen = new Map<string, T>();
  for (const l of lists) for (const t of l ?? []) if (!seen.has(key(t))) seen.set(key(t), t);
  return [...seen.values()];
}

/** The first record of each identity, in order, and how many later ones were dropped. */
function firstOfEach<T>(items: T[], identity: (t: T) => string): { kept: T[]; dropped: number } {
  const seen = new Set<string>();
  const kept = items.filter((t) => {
    const id = identity(t);
    return seen.has(id) ? false : (seen.add(id), true);
  });
  return { kept, dropped: items.length - kept.length };
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
  const { kept: records, dropped: duplicates } = firstOfEach(runs.flatMap((r) => r.records), recordIdentity);
  const { kept: datasetMetrics, dropped: ddup } = firstOfEach(runs.flatMap((r) => r.datasetMetrics), datasetIdentity);
  if (duplicates > 0) warnings.push(`${duplicates} duplicate result record(s) (same sample, method, side, point in several shards) dropped; the first kept`);
  if (ddup > 0) warnings.push(`${ddup} duplicate dataset-metric record(s) dropped; the first kept`);
  const gallery = firstOfEach(runs.flatMap((r) => r.gallery), (g) => g.sampleId).kept;
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

