import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { resolveInside } from './confine';
import { BottomK } from './heap';
import { checkConcurrency, checkImage, fileExists, mapPool } from './image';
import { csvRecords, sortByRow } from './rows';
import { Rng } from '@ceb/random';
import type { LoadResult, Sample, SampleError, VerifyImages } from './types';

/** One `caption<TAB>url` row of a Conceptual Captions TSV. */
export interface CcRow {
  /** 1-based line on which the record starts (the file has no header). */
  row: number;
  caption: string;
  url: string;
}

export interface ReadCcOptions {
  /** Keep a seeded random sample of this many rows (error rows count as rows). */
  limit?: number;
  /** Seed of the sample; default 0. The same seed and file give the same rows, and a
   * larger limit gives a superset of a smaller one. */
  seed?: number;
}

/** A TSV row read: a usable row or the error that makes it unusable (both count towards `limit`). */
type CcEntry = { row: CcRow } | { error: SampleError };

/** The row or error of one parsed TSV record that starts on line `row`. */
function ccEntry(record: string[], row: number, file: string): CcEntry {
  if (record.length !== 2) {
    const n = record.length;
    const trailing = n > 2 && record[n - 1].trim() === '' ? '; the last one is empty (a trailing tab?)' : '';
    const hint = n > 2 ? '; quote a caption that contains a tab' : '';
    return { error: { file, row, reason: `expected 2 tab-separated fields "caption<TAB>url", found ${n}${trailing}${hint}` } };
  }
  const caption = record[0].trim();
  const url = record[1].trim();
  if (caption === '') return { error: { file, row, column: 'caption', reason: 'empty caption' } };
  if (url === '') {
    return { error: { file, row, column: 'url', reason: 'empty url: expected an http(s) URL or a path relative to the local root' } };
  }
  return { row: { row, caption, url } };
}

/** Streams the TSV's entries into `add`; a parse failure (e.g. an unclosed quote) ends the file with one error entry. */
async function streamCcEntries(file: string, add: (e: CcEntry) => void): Promise<void> {
  let lastLine = 0;
  try {
    const records = csvRecords(file, { delimiter: '\t', relax_quotes: true, relax_column_count: true, skip_empty_lines: true, bom: true });
    for await (const { record, row, endLine } of records) {
      lastLine = endLine;
      add(ccEntry(record, row, file));
    }
  } catch (err) {
    // csv-parse stops at e.g. an unclosed quote: record it against where reading stopped.
    add({
      error: {
        file,
        row: lastLine + 1,
        reason: `cannot parse TSV from this line on (${(err as Error).message}); the rest of the file was not read`,
      },
    });
  }
}

/** Keeps every entry, or with `limit` a seeded bottom-k sample of them (one rng draw per entry, in file order). */
function entrySample(limit: number | undefined, seed: number): { add: (e: CcEntry) => void; entries: () => CcEntry[] } {
  const all: CcEntry[] = [];
  const kept = new BottomK<CcEntry>(limit ?? 0);
  const rng = new Rng(seed);
  return {
    add: (e) => {
      if (limit === undefined) all.push(e);
      else kept.push(rng.next(), e);
    },
    entries: () => (limit === undefined ? all : kept.values()),
  };
}

/**
 * Reads a Conceptual Captions TSV: no header, exactly two fields `caption<TAB>url`, quoted
 * fields allowed (a quoted caption may contain a tab). A row with any other number of
 * tab-separated fields (a stray unquoted tab, a trailing tab, `cap<TAB>url<TAB>junk`) is an
 * error that says how many it found: guessing which field is the URL would turn junk into
 * a path. Bad rows become errors; the first row is data, not a header. Sampling is
 * bottom-k over a seeded per-row priority, so it streams files of any size.
 */
export async function readCcTsv(
  file: string,
  options: ReadCcOptions = {},
): Promise<{ rows: CcRow[]; errors: SampleError[] }> {
  const { limit, seed = 0 } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new Error(`readCcTsv: limit must be a non-negative integer, got ${limit}`);
  }
  if (!(await fileExists(file))) throw new Error(`Conceptual Captions TSV not found: ${file}`);

  const sample = entrySample(limit, seed);
  await streamCcEntries(file, sample.add);
  const rows: CcRow[] = [];
  const errors: SampleError[] = [];
  for (const e of sample.entries()) {
    if ('row' in e) rows.push(e.row);
    else errors.push(e.error);
  }
  rows.sort((a, b) => a.row - b.row);
  sortByRow(errors);
  return { rows, errors };
}

/** The cache key of a URL: SHA-1 of the exact URL string, hex. */
export function urlCacheKey(url: string): string {
  return createHash('sha1').update(url).digest('hex');
}

export type CcLocation =
  | { kind: 'remote'; url: string; key: string }
  | { kind: 'local'; path: string }
  | { kind: 'invalid'; reason: string };

/**
 * Classifies a TSV url field: an http(s) URL (read from the cache), or a local path that
 * must resolve inside `localRoot`. `file://` URLs, other schemes, absolute paths and
 * relative paths that climb out of `localRoot` are `invalid`, with the reason.
 */
export function classifyCcUrl(url: string, localRoot: string): CcLocation {
  if (/^https?:\/\//i.test(url)) return { kind: 'remote', url, key: urlCacheKey(url) };
  if (/^file:/i.test(url)) {
    return {
      kind: 'invalid',
      reason: `file:// URLs are not allowed (${url}): give the image as a path relative to the local root (${resolve(localRoot)})`,
    };
  }
  // Anything else with a scheme (ftp:, data:) is not supported; "C:\..." is a (refused) absolute path.
  if (/^[a-z][a-z0-9+.-]+:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) {
    return { kind: 'invalid', reason: `unsupported URL scheme: ${url} (expected http(s) or a relative path)` };
  }
  const inside = resolveInside(localRoot, url, 'the local root');
  return inside.ok ? { kind: 'local', path: inside.path } : { kind: 'invalid', reason: inside.reason };
}

/** Maps cache keys to file names present in a fetch-cc cache directory. */
export async function readCacheIndex(cacheDir: string): Promise<Map<string, string>> {
  const index = new Map<string, string>();
  let names: string[];
  try {
    names = await readdir(cacheDir);
  } catch {
    return index;
  }
  for (const name of names) {
    const m = /^([0-9a-f]{40})\.[a-z0-9]+$/.exec(name);
    if (m) index.set(m[1], resolve(cacheDir, name));
  }
  return index;
}

/** The last recorded failure reason per URL in a cache's failures.jsonl (if any). */
export async function readFailures(cacheDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = await readFile(resolve(cacheDir, FAILURES_FILE), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as { url?: string; reason?: string };
      if (rec.url && rec.reason) out.set(rec.url, rec.reason);
    } catch {
      // A line cut short by a killed run: ignore it.
    }
  }
  return out;
}

export const MANIFEST_FILE = 'manifest.jsonl';
export const FAILURES_FILE = 'failures.jsonl';
/** fetch-cc's list of the selected rows it did not download in its latest run, and why. */
export const SKIPPED_FILE = 'skipped.jsonl';

export interface CcLoadOptions {
  tsv: string;
  /** The fetch-cc output directory; needed for http(s) URLs. */
  cacheDir?: string;
  /** Local image paths in the TSV resolve against this folder and must stay inside it;
   * default: the TSV's folder (the synthetic set's CC layout). */
  localRoot?: string;
  limit?: number;
  seed?: number;
  /** 'exists' (default) checks local files exist; 'decode' decodes every image. */
  verifyImages?: VerifyImages;
}

/**
 * Loads Conceptual Captions pairs: each http(s) URL is resolved to its cached file, each
 * local path against `localRoot` (and refused when it leaves it; file:// URLs are refused).
 * Rows that cannot be used become errors, in the same result.
 */
export async function loadConceptualCaptions(options: CcLoadOptions): Promise<LoadResult> {
  const tsv = resolve(options.tsv);
  const verify = options.verifyImages ?? 'exists';
  const { rows, errors } = await readCcTsv(tsv, { limit: options.limit, seed: options.seed });
  const cacheDir = options.cacheDir ? resolve(options.cacheDir) : undefined;
  const index = cacheDir ? await readCacheIndex(cacheDir) : new Map<string, string>();
  const failures = cacheDir ? await readFailures(cacheDir) : new Map<string, string>();
  const localRoot = resolve(options.localRoot ?? dirname(tsv));

  const results = await mapPool(rows, checkConcurrency(verify), async (r): Promise<Sample | SampleError> => {
    const id = `cc:${r.row}`;
    const err = (reason: string): SampleError => ({ id, file: tsv, row: r.row, column: 'url', reason });
    const loc = classifyCcUrl(r.url, localRoot);
    let imagePath: string;
    if (loc.kind === 'invalid') return err(loc.reason);
    if (loc.kind === 'remote') {
      const hit = index.get(loc.key);
      if (!hit) {
        const hint = cacheDir
          ? `run: pnpm data fetch-cc --tsv ${tsv} --out ${cacheDir}`
          : 'no cache directory given; run pnpm data fetch-cc and pass its --out as cacheDir';
        const earlier = failures.get(r.url);
        return err(`not in cache: ${r.url}${earlier ? ` (fetch failed: ${earlier})` : ''} (${hint})`);
      }
      imagePath = hit;
    } else {
      imagePath = loc.path;
      if (verify !== 'none' && !(await fileExists(imagePath))) return err(`image not found: ${imagePath}`);
    }
    if (verify === 'decode') {
      const check = await checkImage(imagePath);
      if (!check.ok) return err(check.reason);
    }
    return { id, imagePath, caption: r.caption, source: { file: tsv, row: r.row } };
  });

  const samples: Sample[] = [];
  for (const x of results) {
    if ('imagePath' in x) samples.push(x);
    else errors.push(x);
  }
  sortByRow(errors);
  return { samples, errors };
}
