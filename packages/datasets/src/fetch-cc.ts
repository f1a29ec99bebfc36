import { appendFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import {
  FAILURES_FILE,
  MANIFEST_FILE,
  classifyCcUrl,
  readCacheIndex,
  readCcTsv,
  urlCacheKey,
} from './cc';
import { checkImage } from './image';

export interface FetchCcOptions {
  tsv: string;
  /** Cache directory (created if needed). */
  out: string;
  /** Fetch a seeded sample of this many rows (the same rows the loader picks with the same limit and seed). */
  limit?: number;
  seed?: number;
  /** Downloads in flight at once; default 16. */
  concurrency?: number;
  /** Per attempt, covering headers and body; default 15000. */
  timeoutMs?: number;
  /** Extra attempts after a network error, a timeout, HTTP 5xx or 429 (not after 404 or a bad body); default 2. */
  retries?: number;
  /** First retry delay; doubled at each retry; default 500. */
  backoffMs?: number;
  /** Bodies larger than this are refused; default 32 MiB. */
  maxBytes?: number;
  /** Show a progress bar on stderr; default: when stderr is a TTY. */
  progress?: boolean;
  /** Where summary lines go; default: nowhere. */
  log?: (line: string) => void;
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
  /** Rows naming a local path or file:// URL (nothing to fetch). */
  local: number;
  alreadyCached: number;
  fetched: number;
  failed: number;
  /** Rows of the TSV that could not be parsed. */
  rowErrors: number;
  failures: FetchFailure[];
  manifestPath: string;
  failuresPath: string;
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

/**
 * Fills a local image cache for a Conceptual Captions TSV. Each http(s) URL is stored as
 * `<out>/<sha1(url)>.<ext>` (ext from the format sniffed from the bytes, which is more
 * reliable than the server's content type) after checking that it decodes. What failed
 * and why goes to `<out>/failures.jsonl`; what was written to `<out>/manifest.jsonl`.
 * A re-run fetches only URLs whose file is not in the cache yet.
 */
export async function fetchCc(options: FetchCcOptions): Promise<FetchCcSummary> {
  const out = resolve(options.out);
  const tsv = resolve(options.tsv);
  const concurrency = options.concurrency ?? 16;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 500;
  const maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
  const log = options.log ?? (() => undefined);
  for (const [name, v, min] of [
    ['concurrency', concurrency, 1],
    ['timeoutMs', timeoutMs, 1],
    ['retries', retries, 0],
    ['backoffMs', backoffMs, 0],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`fetch-cc: ${name} must be an integer ≥ ${min}, got ${v}`);
  }

  await mkdir(out, { recursive: true });
  const manifestPath = resolve(out, MANIFEST_FILE);
  const failuresPath = resolve(out, FAILURES_FILE);
  const { rows, errors } = await readCcTsv(tsv, { limit: options.limit, seed: options.seed });
  const cached = await readCacheIndex(out);

  // Distinct remote URLs, each with the first row naming it.
  const todo = new Map<string, { url: string; key: string; row: number }>();
  let local = 0;
  let alreadyCached = 0;
  const seen = new Set<string>();
  for (const r of rows) {
    const loc = classifyCcUrl(r.url, dirname(tsv));
    if (loc.kind !== 'remote') {
      local++;
      continue;
    }
    if (seen.has(loc.key)) continue;
    seen.add(loc.key);
    if (cached.has(loc.key)) alreadyCached++;
    else todo.set(loc.key, { url: loc.url, key: loc.key, row: r.row });
  }

  // failures.jsonl holds the failures of the latest run (rewritten); lines are appended
  // as they happen so a killed run still leaves a record.
  await writeFile(failuresPath, '');
  const failures: FetchFailure[] = [];
  let fetched = 0;

  const bar =
    options.progress ?? Boolean(process.stderr.isTTY)
      ? new cliProgress.SingleBar(
          { format: 'fetch-cc {bar} {value}/{total} | ok {ok} | failed {failed} | {eta_formatted}', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(todo.size, 0, { ok: 0, failed: 0 });

  const jobs = [...todo.values()];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      let tries = 0;
      for (;;) {
        tries++;
        try {
          const { body, contentType, check } = await attempt(job.url, timeoutMs, maxBytes);
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
          fetched++;
          break;
        } catch (err) {
          const f = err instanceof Failure ? err : new Failure(`unexpected: ${(err as Error).message}`, false);
          if (f.retryable && tries <= retries) {
            await sleep(backoffMs * 2 ** (tries - 1));
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
          failures.push(rec);
          await appendFile(failuresPath, JSON.stringify(rec) + '\n');
          break;
        }
      }
      bar?.increment(1, { ok: fetched, failed: failures.length });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, jobs.length)) }, worker));
  bar?.stop();

  failures.sort((a, b) => a.row - b.row);
  const summary: FetchCcSummary = {
    rows: rows.length,
    remote: seen.size,
    local,
    alreadyCached,
    fetched,
    failed: failures.length,
    rowErrors: errors.length,
    failures,
    manifestPath,
    failuresPath,
  };
  log(
    `fetch-cc: ${summary.rows} rows, ${summary.remote} URLs: ${alreadyCached} already cached, ${fetched} fetched, ` +
      `${failures.length} failed (see ${failuresPath}); ${local} local paths; ${errors.length} bad rows`,
  );
  for (const e of errors) log(`  bad row ${e.file}:${e.row}: ${e.reason}`);
  return summary;
}
