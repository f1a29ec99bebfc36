import { appendFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import {
  FAILURES_FILE,
  MANIFEST_FILE,
  SKIPPED_FILE,
  classifyCcUrl,
  readCacheIndex,
  readCcTsv,
  urlCacheKey,
  type CcRow,
} from './cc';
import { checkImage } from './image';
import type { SampleError } from './types';

export interface FetchCcOptions {
  tsv: string;
  /** Cache directory (created if needed). */
  out: string;
  /** Local paths in the TSV resolve against this folder (as in the loader); default: the TSV's folder. */
  localRoot?: string;
  /** Fetch a seeded sample of this many rows (the same rows the loader picks with the same limit and seed). */
  limit?: number;
  seed?: number;
  /** Downloads in flight at once; default 16. */
  concurrency?: number;
  /** Per attempt, covering headers and body; default 15000. */
  timeoutMs?: number;
  /** Extra attempts after a network error, a timeout, HTTP 5xx or 429 (not after 404, a bad body or a
   * redirect loop); default 2. */
  retries?: number;
  /** First retry delay; doubled at each retry; default 500. */
  backoffMs?: number;
  /** Bodies larger than this are refused; default 32 MiB. */
  maxBytes?: number;
  /** Show a progress bar on stderr; default: when stderr is a TTY. */
  progress?: boolean;
  /** Where summary lines go; default: nowhere. */
  log?: (line: string) => void;
  /** At most this many per-row lines of each kind (not fetched, failed) in the log; the files list
   * all of them. Default 200. */
  logRows?: number;
}

/** Why a selected row was not downloaded in this run (failed downloads are FetchFailures instead). */
export type SkipKind = 'cached' | 'duplicate' | 'local' | 'invalid' | 'bad-row';

/** A selected row that fetch-cc did not download, and why; one JSON line in skipped.jsonl. */
export interface SkippedRow {
  /** 1-based line of the TSV. */
  row: number;
  /** The row's url field (absent for a row that could not be parsed). */
  url?: string;
  kind: SkipKind;
  reason: string;
}

export interface FetchFailure {
  url: string;
  /** First TSV row (1-based line) that names the URL. */
  row: number;
  reason: string;
  status?: number;
  attempts: number;
  at: string;
}

export interface FetchCcSummary {
  /** Rows selected from the TSV (after --limit). */
  rows: number;
  /** Distinct http(s) URLs among them. */
  remote: number;
  /** Rows naming a local path inside the local root (nothing to fetch). */
  local: number;
  /** Rows whose url field is neither http(s) nor a local path inside the local root (file://, outside). */
  invalid: number;
  alreadyCached: number;
  fetched: number;
  failed: number;
  /** Rows of the TSV that could not be parsed. */
  rowErrors: number;
  failures: FetchFailure[];
  /** Every selected row not downloaded in this run, with why, in row order (also in skipped.jsonl). */
  skipped: SkippedRow[];
  manifestPath: string;
  failuresPath: string;
  skippedPath: string;
}

/** A file written by fetch-cc: `<cache>/<sha1(url)>.<ext>`, one JSON line in manifest.jsonl. */
export interface ManifestEntry {
  url: string;
  file: string;
  format: string;
  contentType: string | null;
  bytes: number;
  width: number;
  height: number;
  at: string;
}

const FORMAT_EXT: Record<string, string> = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  tiff: 'tif',
  heif: 'heic',
  avif: 'avif',
  svg: 'svg',
};

class Failure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readCapped(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new Failure(`body too large: ${declared} bytes > ${maxBytes}`, false);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Failure(`body too large: more than ${maxBytes} bytes`, false);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

/** One attempt: fetch, validate as an image. Throws Failure. */
async function attempt(url: string, timeoutMs: number, maxBytes: number) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      if (controller.signal.aborted) throw new Failure(`timed out after ${timeoutMs} ms`, true);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      // A redirect loop (undici follows 20 redirects, then "redirect count exceeded") ends the
      // same way every time: final, not retried.
      if (/redirect count exceeded/i.test(cause?.message ?? '')) {
        throw new Failure('too many redirects (more than 20: a redirect loop?)', false);
      }
      throw new Failure(`network error: ${cause?.code ?? cause?.message ?? (err as Error).message}`, true);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
      throw new Failure(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, retryable, res.status);
    }
    let body: Buffer;
    try {
      body = await readCapped(res, maxBytes);
    } catch (err) {
      if (err instanceof Failure) throw err;
      if (controller.signal.aborted) throw new Failure(`timed out after ${timeoutMs} ms (reading body)`, true);
      throw new Failure(`network error reading body: ${(err as Error).message}`, true);
    }
    const contentType = res.headers.get('content-type');
    const check = await checkImage(body);
    if (!check.ok) {
      throw new Failure(`not an image (content-type ${contentType ?? 'none'}, ${body.length} bytes): ${check.reason}`, false);
    }
    return { body, contentType, check };
  } finally {
    clearTimeout(timer);
  }
}

/** The validated options, defaults filled in. */
interface FetchSettings {
  out: string;
  tsv: string;
  concurrency: number;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  maxBytes: number;
  log: (line: string) => void;
}

function fetchSettings(options: FetchCcOptions): FetchSettings {
  const settings: FetchSettings = {
    out: resolve(options.out),
    tsv: resolve(options.tsv),
    concurrency: options.concurrency ?? 16,
    timeoutMs: options.timeoutMs ?? 15_000,
    retries: options.retries ?? 2,
    backoffMs: options.backoffMs ?? 500,
    maxBytes: options.maxBytes ?? 32 * 1024 * 1024,
    log: options.log ?? (() => undefined),
  };
  for (const [name, v, min] of [
    ['concurrency', settings.concurrency, 1],
    ['timeoutMs', settings.timeoutMs, 1],
    ['retries', settings.retries, 0],
    ['backoffMs', settings.backoffMs, 0],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`fetch-cc: ${name} must be an integer ≥ ${min}, got ${v}`);
  }
  return settings;
}

/** A distinct remote URL to download, with the first row naming it. */
interface FetchJob {
  url: string;
  key: string;
  row: number;
}

/** What to download, and every selected row that needs no download, with why. */
interface FetchPlan {
  todo: Map<string, FetchJob>;
  /** In row order. */
  skipped: SkippedRow[];
  /** Distinct remote URLs (cached or not). */
  remote: number;
  local: number;
  invalid: number;
  alreadyCached: number;
}

/** Sorts the selected rows into distinct remote URLs to fetch and rows skipped (bad, local, invalid, duplicate, cached). */
function planFetches(
  rows: readonly CcRow[],
  errors: readonly SampleError[],
  localRoot: string,
  cached: ReadonlyMap<string, string>,
): FetchPlan {
  const todo = new Map<string, FetchJob>();
  const skipped: SkippedRow[] = errors.map((e) => ({ row: e.row ?? 0, kind: 'bad-row' as const, reason: e.reason }));
  let local = 0;
  let invalid = 0;
  let alreadyCached = 0;
  const firstRow = new Map<string, number>();
  for (const r of rows) {
    const loc = classifyCcUrl(r.url, localRoot);
    if (loc.kind === 'local') {
      local++;
      skipped.push({ row: r.row, url: r.url, kind: 'local', reason: `local path, nothing to fetch (${loc.path})` });
      continue;
    }
    if (loc.kind === 'invalid') {
      invalid++;
      skipped.push({ row: r.row, url: r.url, kind: 'invalid', reason: loc.reason });
      continue;
    }
    const first = firstRow.get(loc.key);
    if (first !== undefined) {
      skipped.push({ row: r.row, url: r.url, kind: 'duplicate', reason: `same URL as row ${first} (one download serves both)` });
      continue;
    }
    firstRow.set(loc.key, r.row);
    if (cached.has(loc.key)) {
      alreadyCached++;
      skipped.push({ row: r.row, url: r.url, kind: 'cached', reason: `already cached (${cached.get(loc.key)})` });
    } else todo.set(loc.key, { url: loc.url, key: loc.key, row: r.row });
  }
  skipped.sort((a, b) => a.row - b.row);
  return { todo, skipped, remote: firstRow.size, local, invalid, alreadyCached };
}

/** What the downloads so far have done; shared by the workers. */
interface FetchTally {
  fetched: number;
  failures: FetchFailure[];
}

/** Stores a downloaded body as `<key>.<ext>` (written aside, then renamed) and adds it to the manifest. */
async function storeDownload(job: FetchJob, got: Awaited<ReturnType<typeof attempt>>, out: string, manifestPath: string): Promise<void> {
  const { body, contentType, check } = got;
  const file = `${job.key}.${FORMAT_EXT[check.format] ?? check.format}`;
  const tmp = resolve(out, `${file}.${process.pid}.part`);
  await writeFile(tmp, body);
  await rename(tmp, resolve(out, file));
  const entry: ManifestEntry = {
    url: job.url,
    file,
    format: check.format,
    contentType,
    bytes: body.length,
    width: check.width,
    height: check.height,
    at: new Date().toISOString(),
  };
  await appendFile(manifestPath, JSON.stringify(entry) + '\n');
}

/** Downloads one URL, retrying what may pass next time with doubling delays; counts the outcome in `tally`. */
async function fetchWithRetries(job: FetchJob, s: FetchSettings, paths: { manifestPath: string; failuresPath: string }, tally: FetchTally) {
  for (let tries = 1; ; tries++) {
    try {
      await storeDownload(job, await attempt(job.url, s.timeoutMs, s.maxBytes), s.out, paths.manifestPath);
      tally.fetched++;
      return;
    } catch (err) {
      const f = err instanceof Failure ? err : new Failure(`unexpected: ${(err as Error).message}`, false);
      if (f.retryable && tries <= s.retries) {
        await sleep(s.backoffMs * 2 ** (tries - 1));
        continue;
      }
      const rec: FetchFailure = {
        url: job.url,
        row: job.row,
        reason: f.message,
        ...(f.status !== undefined ? { status: f.status } : {}),
        attempts: tries,
        at: new Date().toISOString(),
      };
      tally.failures.push(rec);
      await appendFile(paths.failuresPath, JSON.stringify(rec) + '\n');
      return;
    }
  }
}

/** A progress bar on stderr (by default when it is a TTY), or undefined. */
function progressBar(progress: boolean | undefined): cliProgress.SingleBar | undefined {
  return progress ?? Boolean(process.stderr.isTTY)
    ? new cliProgress.SingleBar(
        { format: 'fetch-cc {bar} {value}/{total} | ok {ok} | failed {failed} | {eta_formatted}', stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
}

/** Runs the jobs with `concurrency` workers, updating the progress bar after each. */
async function downloadAll(
  jobs: readonly FetchJob[],
  s: FetchSettings,
  paths: { manifestPath: string; failuresPath: string },
  bar: cliProgress.SingleBar | undefined,
): Promise<FetchTally> {
  const tally: FetchTally = { fetched: 0, failures: [] };
  bar?.start(jobs.length, 0, { ok: 0, failed: 0 });
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      await fetchWithRetries(jobs[next++], s, paths, tally);
      bar?.increment(1, { ok: tally.fetched, failed: tally.failures.length });
    }
  };
  await Promise.all(Array.from({ length: Math.min(s.concurrency, Math.max(1, jobs.length)) }, worker));
  bar?.stop();
  return tally;
}

/** Logs the summary line, then each row not fetched, with why (already-cached rows only as a count: nothing is wrong with them). */
function logSummary(summary: FetchCcSummary, log: (line: string) => void, maxLines: number): void {
  const { alreadyCached, fetched, failures, local, invalid, rowErrors, skipped, failuresPath, skippedPath } = summary;
  log(
    `fetch-cc: ${summary.rows} rows, ${summary.remote} URLs: ${alreadyCached} already cached, ${fetched} fetched, ` +
      `${failures.length} failed (see ${failuresPath}); ${local} local paths, ${invalid} invalid, ${rowErrors} bad rows ` +
      `(every row not fetched: ${skippedPath})`,
  );
  const listed = (lines: string[], what: string, file: string) => {
    for (const l of lines.slice(0, maxLines)) log(l);
    if (lines.length > maxLines) log(`  … and ${lines.length - maxLines} more ${what} (all in ${file})`);
  };
  listed(
    failures.map((f) => `  row ${f.row}: failed: ${f.reason} (${f.url}, ${f.attempts} attempt${f.attempts > 1 ? 's' : ''})`),
    'failed rows',
    failuresPath,
  );
  listed(
    skipped
      .filter((x) => x.kind !== 'cached')
      .map((x) => `  row ${x.row}: not fetched: ${x.kind === 'bad-row' ? 'bad row: ' : ''}${x.reason}${x.url && x.kind !== 'local' ? ` (${x.url})` : ''}`),
    'rows not fetched',
    skippedPath,
  );
  if (alreadyCached > 0) log(`  ${alreadyCached} row${alreadyCached > 1 ? 's' : ''} already cached (listed in ${skippedPath})`);
}

/**
 * Fills a local image cache for a Conceptual Captions TSV. Each http(s) URL is stored as
 * `<out>/<sha1(url)>.<ext>` (ext from the format sniffed from the bytes, which is more
 * reliable than the server's content type) after checking that it decodes. What failed
 * and why goes to `<out>/failures.jsonl`; what was written to `<out>/manifest.jsonl`.
 * A re-run fetches only URLs whose file is not in the cache yet.
 */
export async function fetchCc(options: FetchCcOptions): Promise<FetchCcSummary> {
  const settings = fetchSettings(options);
  const { out, tsv } = settings;
  await mkdir(out, { recursive: true });
  const manifestPath = resolve(out, MANIFEST_FILE);
  const failuresPath = resolve(out, FAILURES_FILE);
  const skippedPath = resolve(out, SKIPPED_FILE);
  const localRoot = resolve(options.localRoot ?? dirname(tsv));
  const { rows, errors } = await readCcTsv(tsv, { limit: options.limit, seed: options.seed });
  const plan = planFetches(rows, errors, localRoot, await readCacheIndex(out));
  await writeFile(skippedPath, plan.skipped.map((x) => JSON.stringify(x) + '\n').join(''));

  // failures.jsonl holds the failures of the latest run (rewritten); lines are appended
  // as they happen so a killed run still leaves a record.
  await writeFile(failuresPath, '');
  const paths = { manifestPath, failuresPath };
  const { fetched, failures } = await downloadAll([...plan.todo.values()], settings, paths, progressBar(options.progress));

  failures.sort((a, b) => a.row - b.row);
  const summary: FetchCcSummary = {
    rows: rows.length,
    remote: plan.remote,
    local: plan.local,
    invalid: plan.invalid,
    alreadyCached: plan.alreadyCached,
    fetched,
    failed: failures.length,
    rowErrors: errors.length,
    failures,
    skipped: plan.skipped,
    manifestPath,
    failuresPath,
    skippedPath,
  };
  logSummary(summary, settings.log, options.logRows ?? 200);
  return summary;
}
