// The fingerprint of a run: everything that changes a number — the model's files (sha-256), its
// quirks, the data set's settings and the samples it yields, every method × side × option value
// of the plan, every metric param, the seeds, the limit and the shard — flattened to key → value.
// Not in it: workers, threads, the backend, the gallery and the paths (outputs, and inputs that
// moved but hold the same files). `--resume` continues a folder only when the fingerprints match.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { resolveWeightsPath } from '@ceb/core';
import type { Sample } from '@ceb/datasets';
import type { Shard } from '@ceb/results';
import type { BenchConfig } from './config/schema';
import type { RunPlan } from './plan';

export interface Fingerprint {
  /** sha-256 of the keys (stable JSON): equal runs have equal hashes. */
  sha256: string;
  keys: Record<string, string>;
}

/** Files beside the weights that change the numbers (geometry, tokenizer, normalisation). */
const MODEL_FILES = ['config.json', 'preprocessor_config.json', 'vocab.json', 'merges.txt', 'tokenizer.json'];
/** Dataset fields that only say where files are. */
const PATH_FIELDS = new Set(['csv', 'imageRoot', 'tsv', 'cacheDir', 'localRoot', 'dir', 'root']);

const hashCache = new Map<string, string>();

/** sha-256 of a file, streamed; cached per (path, size, mtime) within the process. */
export async function sha256File(file: string): Promise<string> {
  const st = statSync(file);
  const key = `${file}|${st.size}|${st.mtimeMs}`;
  const hit = hashCache.get(key);
  if (hit) return hit;
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 22 })) h.update(chunk as Buffer);
  const hex = h.digest('hex');
  hashCache.set(key, hex);
  return hex;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const json = (v: unknown): string => JSON.stringify(v) ?? 'null';

async function modelKeys(path: string): Promise<Record<string, string>> {
  const weights = resolveWeightsPath(path);
  const dir = dirname(weights);
  const files = [weights, ...MODEL_FILES.map((f) => join(dir, f)).filter((f) => f !== weights && existsSync(f))];
  const out: Record<string, string> = {};
  for (const f of files) out[`model.files.${basename(f)}`] = `sha256:${await sha256File(f)}`;
  return out;
}

function flatten(prefix: string, v: unknown, out: Record<string, string>): void {
  if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) flatten(`${prefix}.${k}`, x, out);
  else out[prefix] = json(v);
}

function planKeys(plan: RunPlan): Record<string, string> {
  const out: Record<string, string> = {};
  const groups = new Map<string, RunPlan['units']>();
  for (const u of plan.units) groups.set(`${u.method}.${u.side}`, [...(groups.get(`${u.method}.${u.side}`) ?? []), u]);
  for (const [where, units] of groups) {
    out[`methods.${where}.points`] = json(units.map((u) => u.point.key));
    for (const opt of Object.keys(units[0].point.options)) out[`methods.${where}.${opt}`] = json([...new Set(units.map((u) => u.point.options[opt]))]);
  }
  const unitNames = (us: RunPlan['units']) => json(us.map((u) => `${u.method}.${u.side}@${u.point.key}`));
  for (const m of plan.pairMetrics) {
    flatten(`metrics.${m.name}`, m.params, out);
    out[`metrics.${m.name}.units`] = unitNames(plan.units.filter((u) => u.metrics.includes(m)));
  }
  for (const d of plan.datasetMetrics) {
    flatten(`metrics.${d.name}`, d.params, out);
    out[`metrics.${d.name}.units`] = unitNames(d.units);
  }
  return out;
}

export interface FingerprintInput {
  cfg: BenchConfig;
  plan: RunPlan;
  /** The run's samples (the whole run's, after --limit), in order. */
  samples: readonly Sample[];
  shard: Shard;
  limit?: number;
}

export async function fingerprintRun(i: FingerprintInput): Promise<Fingerprint> {
  const { cfg } = i;
  const keys: Record<string, string> = { ...(await modelKeys(cfg.model)) };
  flatten('modelQuirks', cfg.modelQuirks, keys);
  keys.seed = json(cfg.seed);
  keys.truncate = json(cfg.truncate);
  for (const [k, v] of Object.entries(cfg.dataset)) if (!PATH_FIELDS.has(k)) flatten(`dataset.${k}`, v, keys);
  keys['dataset.samples'] = `${i.samples.length} samples, sha256:${sha256(i.samples.map((s) => s.id).join('\n'))}`;
  keys.limit = json(i.limit ?? null);
  keys.shard = `${i.shard.index}/${i.shard.count}`;
  Object.assign(keys, planKeys(i.plan));
  const sorted = Object.fromEntries(Object.keys(keys).sort().map((k) => [k, keys[k]]));
  return { sha256: sha256(json(sorted)), keys: sorted };
}

/** The keys whose values differ (present in one only counts), with both values. */
export function fingerprintDiff(was: Fingerprint, now: Fingerprint, ignore: string[] = []): { key: string; was?: string; now?: string }[] {
  const keys = [...new Set([...Object.keys(was.keys), ...Object.keys(now.keys)])].filter((k) => !ignore.includes(k)).sort();
  return keys.filter((k) => was.keys[k] !== now.keys[k]).map((k) => ({ key: k, was: was.keys[k], now: now.keys[k] }));
}

const short = (v: string | undefined): string => (v === undefined ? '(absent)' : v.length > 80 ? `${v.slice(0, 77)}…` : v);

/** "key: was X, now Y" lines for an error message. */
export function describeDiff(diff: { key: string; was?: string; now?: string }[]): string {
  return diff.map((d) => `  ${d.key}: was ${short(d.was)}, now ${short(d.now)}`).join('\n');
}
