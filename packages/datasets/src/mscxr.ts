import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'csv-parse';
import { checkImage, fileExists, mapPool } from './image';
import type { Box, LoadResult, Sample, SampleError, SplitName, VerifyImages } from './types';

/** Columns every MS-CXR local-alignment CSV has (v1.0.0 and v1.1.0). */
export const MSCXR_COLUMNS = [
  'dicom_id',
  'category_name',
  'label_text',
  'path',
  'x',
  'y',
  'w',
  'h',
  'image_width',
  'image_height',
] as const;
/** Added in v1.1.0. */
export const MSCXR_OPTIONAL_COLUMNS = ['split'] as const;

export interface MsCxrLoadOptions {
  /** `MS_CXR_Local_Alignment_v1.0.0.csv` or `_v1.1.0.csv` (or the synthetic set's CSV). */
  csv: string;
  /** The MIMIC-CXR-JPG root: the folder that holds `files/`. */
  imageRoot: string;
  /** Throw on the first bad row instead of recording it. */
  strict?: boolean;
  /** 'exists' (default): stat each image; 'decode': decode it and compare its size with the CSV. */
  verifyImages?: VerifyImages;
}

interface ParsedRow {
  row: number;
  dicomId: string;
  category: string;
  label: string;
  path: string;
  box: Box;
  width: number;
  height: number;
  split?: SplitName;
}

const NUMERIC = ['x', 'y', 'w', 'h', 'image_width', 'image_height'] as const;
const PATIENT_RE = /(?:^|[\\/])(p\d{8})(?:[\\/]|$)/;

/** The MIMIC patient id (`p` + 8 digits) in an MS-CXR path, or undefined. */
export function patientIdFromPath(path: string): string | undefined {
  return PATIENT_RE.exec(path)?.[1];
}

function normaliseSplit(v: string): SplitName | undefined | null {
  const s = v.trim().toLowerCase();
  if (s === '') return undefined;
  if (s === 'train') return 'train';
  if (s === 'test') return 'test';
  if (s === 'val' || s === 'valid' || s === 'validation') return 'val';
  return null;
}

class RowError extends Error {
  constructor(
    readonly column: string | undefined,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function parseRow(fields: Record<string, string>, row: number, hasSplit: boolean): ParsedRow {
  const text = (c: string) => (fields[c] ?? '').trim();
  for (const c of ['dicom_id', 'label_text', 'path', 'category_name'] as const) {
    if (text(c) === '') throw new RowError(c, c === 'label_text' ? 'empty caption (label_text)' : `empty ${c}`);
  }
  const num: Record<string, number> = {};
  for (const c of NUMERIC) {
    const raw = text(c);
    const v = raw === '' ? NaN : Number(raw);
    if (!Number.isFinite(v)) throw new RowError(c, `expected a number, found "${fields[c] ?? ''}"`);
    num[c] = v;
  }
  for (const c of ['w', 'h', 'image_width', 'image_height'] as const) {
    if (num[c] <= 0) throw new RowError(c, `expected a positive number, found ${num[c]}`);
  }
  let split: SplitName | undefined;
  if (hasSplit) {
    const s = normaliseSplit(fields.split ?? '');
    if (s === null) throw new RowError('split', `expected train, val or test, found "${fields.split}"`);
    split = s;
  }
  return {
    row,
    dicomId: text('dicom_id'),
    category: text('category_name'),
    label: text('label_text'),
    path: text('path'),
    box: { x: num.x, y: num.y, w: num.w, h: num.h },
    width: num.image_width,
    height: num.image_height,
    split,
  };
}

/** Stable sample id: the DICOM id and a short hash of the phrase. */
export function msCxrSampleId(dicomId: string, labelText: string): string {
  return `${dicomId}:${createHash('sha1').update(labelText).digest('hex').slice(0, 8)}`;
}

/**
 * Loads MS-CXR phrase groundings. Rows sharing (dicom_id, label_text) are one phrase with
 * several boxes. Boxes stay in original pixels, with the original size from the CSV; the
 * model-pixel mapping (resize + centre crop) is core's job. A wrong header throws; a bad
 * row becomes a SampleError naming file, row and column (or throws with `strict`), and
 * the whole phrase it belongs to is left out.
 */
export async function loadMsCxr(options: MsCxrLoadOptions): Promise<LoadResult> {
  const file = resolve(options.csv);
  const root = resolve(options.imageRoot);
  const verify = options.verifyImages ?? 'exists';
  if (!(await fileExists(file))) throw new Error(`MS-CXR CSV not found: ${file}`);

  const fail = (e: SampleError) => {
    if (options.strict) {
      throw new Error(`${file}: row ${e.row}${e.column ? `, column "${e.column}"` : ''}: ${e.reason}`);
    }
    return e;
  };

  let header: string[] | undefined;
  let hasSplit = false;
  const errors: SampleError[] = [];
  // Group rows by phrase; a bad row poisons its phrase (partial box sets would skew localisation).
  const groups = new Map<string, { rows: ParsedRow[]; bad?: SampleError; badCount: number; first: number }>();

  const parser = createReadStream(file).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }),
  );
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    const inner = record.reduce((n, f) => n + (f.match(/\r\n|\n|\r/g)?.length ?? 0), 0);
    const row = info.lines - inner;
    if (!header) {
      header = record.map((h) => h.trim());
      const missing = MSCXR_COLUMNS.filter((c) => !header!.includes(c));
      if (missing.length > 0) {
        throw new Error(
          `${file}: header (row ${row}) is missing column${missing.length > 1 ? 's' : ''} ` +
            `${missing.map((m) => `"${m}"`).join(', ')}; expected ${[...MSCXR_COLUMNS, ...MSCXR_OPTIONAL_COLUMNS].join(', ')}; ` +
            `found ${header.join(', ')}`,
        );
      }
      hasSplit = header.includes('split');
      continue;
    }
    const fields: Record<string, string> = {};
    header.forEach((h, i) => (fields[h] = record[i] ?? ''));
    const dicom = (fields.dicom_id ?? '').trim();
    const label = (fields.label_text ?? '').trim();
    const key = `${dicom}\u0000${label}`;
    const id = dicom && label ? msCxrSampleId(dicom, label) : undefined;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { rows: [], badCount: 0, first: row }));
    if (record.length !== header.length) {
      const e = fail({ id, file, row, reason: `expected ${header.length} fields, found ${record.length}` });
      g.badCount++;
      g.bad ??= e;
      continue;
    }
    try {
      const p = parseRow(fields, row, hasSplit);
      if (!patientIdFromPath(p.path)) {
        throw new RowError('path', `no patient id (p + 8 digits) in path "${p.path}"`);
      }
      g.rows.push(p);
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      const e = fail({ id, file, row, column: err.column, reason: err.reason });
      g.badCount++;
      g.bad ??= e;
    }
  }
  if (!header) throw new Error(`${file}: empty file, expected a header row with ${MSCXR_COLUMNS.join(', ')}`);

  const candidates: Sample[] = [];
  for (const g of groups.values()) {
    if (g.bad) {
      const more = g.badCount > 1 ? ` (and ${g.badCount - 1} more bad row(s) in this phrase)` : '';
      errors.push({ ...g.bad, reason: g.bad.reason + more });
      continue;
    }
    const [r0] = g.rows;
    // Rows of one phrase must agree on everything but the box.
    let conflict: SampleError | undefined;
    for (const r of g.rows.slice(1)) {
      const pairs: [string, unknown, unknown][] = [
        ['path', r.path, r0.path],
        ['category_name', r.category, r0.category],
        ['image_width', r.width, r0.width],
        ['image_height', r.height, r0.height],
        ['split', r.split, r0.split],
      ];
      const bad = pairs.find(([, a, b]) => a !== b);
      if (bad) {
        conflict = fail({
          id: msCxrSampleId(r0.dicomId, r0.label),
          file,
          row: r.row,
          column: bad[0],
          reason: `rows ${r0.row} and ${r.row} of the same phrase disagree on ${bad[0]} ("${bad[2]}" vs "${bad[1]}")`,
        });
        break;
      }
    }
    if (conflict) {
      errors.push(conflict);
      continue;
    }
    candidates.push({
      id: msCxrSampleId(r0.dicomId, r0.label),
      imagePath: resolve(root, r0.path),
      caption: r0.label,
      boxes: g.rows.map((r) => r.box),
      imageSize: { width: r0.width, height: r0.height },
      category: r0.category,
      patientId: patientIdFromPath(r0.path),
      ...(r0.split ? { split: r0.split } : {}),
      source: { file, row: r0.row },
    });
  }

  // Check each distinct image once.
  const checks = new Map<string, Promise<string | undefined>>();
  const checkOnce = (s: Sample): Promise<string | undefined> => {
    let p = checks.get(s.imagePath);
    if (!p) {
      p = (async () => {
        if (verify === 'none') return undefined;
        if (verify === 'exists') return (await fileExists(s.imagePath)) ? undefined : `image not found: ${s.imagePath}`;
        const c = await checkImage(s.imagePath);
        if (!c.ok) return c.reason;
        const { width, height } = s.imageSize!;
        if (c.width !== width || c.height !== height) {
          return `image ${s.imagePath} is ${c.width}×${c.height} but the CSV says ${width}×${height}`;
        }
        return undefined;
      })();
      checks.set(s.imagePath, p);
    }
    return p;
  };
  const verdicts = await mapPool(candidates, verify === 'decode' ? 4 : 16, checkOnce);
  const samples: Sample[] = [];
  candidates.forEach((s, i) => {
    const reason = verdicts[i];
    if (reason) errors.push(fail({ id: s.id, file, row: s.source.row, column: 'path', reason }));
    else samples.push(s);
  });
  samples.sort((a, b) => a.source.row - b.source.row);
  errors.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
  return { samples, errors };
}
