// JSON Lines, as the run folder uses it: one record per line, appended and flushed record by
// record; a last line without its newline is a record cut by a kill.
import { appendFileSync, existsSync, readFileSync, truncateSync } from 'node:fs';

/**
 * The parsed records of a JSON Lines file with their 1-based line numbers (blank lines count).
 * A last line without its newline that does not parse is a record still being written (the run
 * is going on, or was killed mid-write): it is skipped with a warning. Any other bad line is an
 * error naming the file and line.
 */
export function readJsonlLines(file: string, warnings: string[]): { value: unknown; line: number }[] {
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


/** NaN / ±Infinity are not JSON: an undefined value is recorded as null. */
export function jsonLine(obj: unknown): string {
  return JSON.stringify(obj, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n';
}

/** Appends one record; appendFileSync opens, writes and closes, so the line is in the file before the next starts. */
export function appendJsonl(file: string, obj: unknown): void {
  appendFileSync(file, jsonLine(obj));
}

/**
 * A last line without its newline is a record cut by a kill: it is removed, so the next
 * append starts on a clean line and the record is made again (never twice).
 */
export function dropUnfinishedTail(file: string): void {
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length) truncateSync(file, Buffer.byteLength(text.slice(0, end)));
}
