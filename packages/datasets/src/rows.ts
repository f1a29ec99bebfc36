import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse, type Options as CsvOptions } from 'csv-parse';
import { fileExists } from './image';
import type { SampleError } from './types';

/** Lines of a text file, BOM and CR stripped; [1-based row, text] for each non-blank line. */
export function textLines(text: string): [number, string][] {
  const out: [number, string][] = [];
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((l, i) => {
      const t = l.replace(/\r$/, '');
      if (t.trim() !== '') out.push([i + 1, t]);
    });
  return out;
}

/**
 * The rows of a "key<TAB>value" text file, as [row, key, value] with both fields trimmed.
 * A row with another number of fields is an error (its `layout`, e.g. "wnid<TAB>names",
 * is named in the reason), added to `errors` as the rows are iterated, so in row order
 * with the caller's own errors.
 */
export function* tabSeparatedPairs(text: string, file: string, layout: string, errors: SampleError[]): Generator<[number, string, string]> {
  for (const [row, line] of textLines(text)) {
    const f = line.split('\t');
    if (f.length !== 2) {
      errors.push({ file, row, reason: `expected 2 tab-separated fields "${layout}", found ${f.length}` });
      continue;
    }
    yield [row, f[0].trim(), f[1].trim()];
  }
}

/** Reads a text file that must be there; `notFound` is the whole error message when it is not. */
export async function readRequiredText(file: string, notFound: string): Promise<string> {
  if (!(await fileExists(file))) throw new Error(notFound);
  return readFile(file, 'utf8');
}

/** One csv-parse record with where it sits in the file. */
export interface CsvRecord {
  record: string[];
  /** 1-based line the record starts on. */
  row: number;
  /** 1-based line the record ends on (later than `row` when a quoted field holds newlines). */
  endLine: number;
}

/** Streams the records of a delimited file (csv-parse with `options`), each with its first and last line. */
export async function* csvRecords(file: string, options: CsvOptions): AsyncGenerator<CsvRecord> {
  const parser = createReadStream(file).pipe(parse({ ...options, info: true }));
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    // info.lines is the line the record ends on; step back over newlines inside fields.
    const inner = record.reduce((n, f) => n + (f.match(/\r\n|\n|\r/g)?.length ?? 0), 0);
    yield { record, row: info.lines - inner, endLine: info.lines };
  }
}

/** Sorts errors by row in place (stable: errors of one row keep their order; no row counts as 0). */
export function sortByRow(errors: SampleError[]): SampleError[] {
  return errors.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
}

/**
 * The candidates whose verdict is undefined, in order; for each other one `errorOf` builds
 * the error (it may throw, e.g. in strict mode), which is added to `errors`.
 */
export function keepPassing<T>(
  candidates: readonly T[],
  verdicts: readonly (string | undefined)[],
  errors: SampleError[],
  errorOf: (candidate: T, reason: string, index: number) => SampleError,
): T[] {
  const kept: T[] = [];
  candidates.forEach((c, i) => {
    const reason = verdicts[i];
    if (reason) errors.push(errorOf(c, reason, i));
    else kept.push(c);
  });
  return kept;
}
