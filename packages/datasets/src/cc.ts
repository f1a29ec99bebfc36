import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse';
import { BottomK } from './heap';
import { checkImage, fileExists, mapPool } from './image';
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

/**
 * Reads a Conceptual Captions TSV: no header, `caption<TAB>url`, quoted fields allowed
 * (a quoted caption may contain a tab). A stray unquoted tab inside a caption makes
 * more than two fields: the URL is the last non-empty field and the caption the rest,
 * re-joined with tabs. Bad rows become errors; the first row is data, not a header.
 * Sampling is bottom-k over a seeded per-row priority, so it streams files of any size.
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

  type Entry = { row: CcRow } | { error: SampleError };
  const all: Entry[] = [];
  const kept = new BottomK<Entry>(limit ?? 0);
  const rng = new Rng(seed);
  const add = (e: Entry) => {
    if (limit === undefined) all.push(e);
    else kept.push(rng.next(), e);
  };

  const parser = createReadStream(file).pipe(
    parse({
      delimiter: '\t',
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      bom: true,
    }),
  );
  let lastLine = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      // info.lines is the line the record ends on; step back over newlines inside fields.
      const inner = record.reduce((n, f) => n + (f.match(/\r\n|\n|\r/g)?.length ?? 0), 0);
      const row = info.lines - inner;
      lastLine = info.lines;
      const fields = record.slice();
      while (fields.length > 0 && fields[fields.length - 1].trim() === '') fields.pop();
      if (fields.length < 2) {
        add({ error: { file, row, reason: `expected "caption<TAB>url", found ${fields.length} non-empty field(s)` } });
        continue;
      }
      const url = fields[fields.length - 1].trim();
      const caption = fields.slice(0, -1).join('\t').trim();
      if (caption === '') {
        add({ error: { file, row, column: 'caption', reason: 'empty caption' } });
        continue;
      }
      add({ row: { row, caption, url } });
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
  const entries = limit === undefined ? all : kept.values();
  const rows: CcRow[] = [];
  const errors: SampleError[] = [];
  for (const e of entries) {
    if ('row' in e) rows.push(e.row);
    else errors.push(e.error);
  }
  rows.sort((a, b) => a.row - b.row);
  errors.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
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

/** Classifies a TSV url field: http(s) (cached), file:// or a local path (relative to `baseDir`). */
export function classifyCcUrl(url: string, baseDir: string): CcLocation {
  if (/^https?:\/\//i.test(url)) return { kind: 'remote', url, key: urlCacheKey(url) };
  if (/^file:\/\//i.test(url)) {
    try {
      return { kind: 'local', path: fileURLToPath(url) };
    } catch (err) {
      return { kind: 'invalid', reason: `bad file URL ${url}: ${(err as Error).message}` };
    }
  }
  // Anything else with a scheme (ftp:, data:) is not supported; "C:\..." is a path.
  if (/^[a-z][a-z0-9+.-]+:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) {
    return { kind: 'invalid', reason: `unsupported URL scheme: ${url}` };
  }
  return { kind: 'local', path: isAbsolute(url) ? url : resolve(baseDir, url) };
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

export interface CcLoadOptions {
  tsv: string;
  /** The fetch-cc output directory; needed for http(s) URLs. */
  cacheDir?: string;
  limit?: number;
  seed?: number;
  /** 'exists' (default) checks local files exist; 'decode' decodes every image. */
  verifyImages?: VerifyImages;
}

/**
 * Loads Conceptual Captions pairs: each URL is resolved to its cached file (local paths
 * and file:// URLs directly). Rows that cannot be used become errors, in the same result.
 */
export async function loadConceptualCaptions(options: CcLoadOptions): Promise<LoadResult> {
  const tsv = resolve(options.tsv);
  const verify = options.verifyImages ?? 'exists';
  const { rows, errors } = await readCcTsv(tsv, { limit: options.limit, seed: options.seed });
  const cacheDir = options.cacheDir ? resolve(options.cacheDir) : undefined;
  const index = cacheDir ? await readCacheIndex(cacheDir) : new Map<string, string>();
  const failures = cacheDir ? await readFailures(cacheDir) : new Map<string, string>();
  const baseDir = dirname(tsv);

  const results = await mapPool(rows, verify === 'decode' ? 4 : 16, async (r): Promise<Sample | SampleError> => {
    const id = `cc:${r.row}`;
    const err = (reason: string): SampleError => ({ id, file: tsv, row: r.row, column: 'url', reason });
    const loc = classifyCcUrl(r.url, baseDir);
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
  errors.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
  return { samples, errors };
}
