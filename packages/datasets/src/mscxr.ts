import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { xywhBoxProblem } from './boxes';
import { resolveInside } from './confine';
import { checkConcurrency, fileExists, imageProblem, mapPool } from './image';
import { csvRecords, keepPassing, sortByRow } from './rows';
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
    if (num[c] <= 0) {
      const what = c === 'w' || c === 'h' ? ' (a box of zero or negative size is empty)' : '';
      throw new RowError(c, `expected a positive number${what}, found ${num[c]}`);
    }
  }
  // The box must lie inside the image the row itself describes.
  const box: Box = { x: num.x, y: num.y, w: num.w, h: num.h };
  const boxProblem = xywhBoxProblem(box, { width: num.image_width, height: num.image_height });
  if (boxProblem) throw new RowError(boxProblem.column, boxProblem.reason);
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
    box,
    width: num.image_width,
    height: num.image_height,
    split,
  };
}

/** Whether two parsed rows agree on everything but their row number. */
function sameRow(a: ParsedRow, b: ParsedRow): boolean {
  return (
    a.dicomId === b.dicomId &&
    a.label === b.label &&
    a.path === b.path &&
    a.category === b.category &&
    a.width === b.width &&
    a.height === b.height &&
    a.split === b.split &&
    a.box.x === b.box.x &&
    a.box.y === b.box.y &&
    a.box.w === b.box.w &&
    a.box.h === b.box.h
  );
}

/** Stable sample id: the DICOM id and a short hash of the phrase. */
export function msCxrSampleId(dicomId: string, labelText: string): string {
  return `${dicomId}:${createHash('sha1').update(labelText).digest('hex').slice(0, 8)}`;
}

/** The rows of one phrase (dicom_id, label_text); a bad row poisons the phrase (partial box sets would skew localisation). */
interface PhraseGroup {
  rows: ParsedRow[];
  /** The first bad row's error. */
  bad?: SampleError;
  badCount: number;
  first: number;
}

/** Records a bad row; with `strict` it throws instead. */
type Fail = (e: SampleError) => SampleError;

/** Checks the header row; returns the trimmed column names. */
function checkHeader(record: string[], row: number, file: string): string[] {
  const header = record.map((h) => h.trim());
  const missing = MSCXR_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new Error(
      `${file}: header (row ${row}) is missing column${missing.length > 1 ? 's' : ''} ` +
        `${missing.map((m) => `"${m}"`).join(', ')}; expected ${[...MSCXR_COLUMNS, ...MSCXR_OPTIONAL_COLUMNS].join(', ')}; ` +
        `found ${header.join(', ')}`,
    );
  }
  return header;
}

/** Parses a data row and checks its path (inside `root`, with a patient id); throws RowError. */
function parseCheckedRow(fields: Record<string, string>, row: number, hasSplit: boolean, root: string): ParsedRow {
  const p = parseRow(fields, row, hasSplit);
  const inside = resolveInside(root, p.path);
  if (!inside.ok) throw new RowError('path', inside.reason);
  if (!patientIdFromPath(p.path)) {
    throw new RowError('path', `no patient id (p + 8 digits) in path "${p.path}"`);
  }
  return p;
}

/**
 * Reads the CSV into phrase groups, in first-row order. A wrong header throws; a bad row
 * goes through `fail` and marks its phrase; an exact repeat of a row is a warning in `errors`.
 */
async function readPhraseGroups(file: string, root: string, fail: Fail, errors: SampleError[]): Promise<Map<string, PhraseGroup>> {
  let header: string[] | undefined;
  let hasSplit = false;
  const groups = new Map<string, PhraseGroup>();
  for await (const { record, row } of csvRecords(file, { bom: true, relax_column_count: true, skip_empty_lines: true })) {
    if (!header) {
      header = checkHeader(record, row, file);
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
    let bad: SampleError | undefined;
    if (record.length !== header.length) {
      bad = { id, file, row, reason: `expected ${header.length} fields, found ${record.length}` };
    } else {
      try {
        const p = parseCheckedRow(fields, row, hasSplit, root);
        // The same row twice (same image, phrase, box and everything else): kept once, with a warning.
        const twin = g.rows.find((q) => sameRow(q, p));
        if (twin) {
          const reason = `duplicate of row ${twin.row} (same dicom_id, path, label_text and box); kept once`;
          errors.push({ id, file, row, reason, severity: 'warning' });
        } else g.rows.push(p);
      } catch (err) {
        if (!(err instanceof RowError)) throw err;
        bad = { id, file, row, column: err.column, reason: err.reason };
      }
    }
    if (bad) {
      const e = fail(bad);
      g.badCount++;
      g.bad ??= e;
    }
  }
  if (!header) throw new Error(`${file}: empty file, expected a header row with ${MSCXR_COLUMNS.join(', ')}`);
  return groups;
}

/** The Sample of a phrase, or the error that leaves it out: its first bad row, or rows that disagree on anything but the box. */
function phraseSample(g: PhraseGroup, file: string, root: string, fail: Fail): Sample | SampleError {
  if (g.bad) {
    const more = g.badCount > 1 ? ` (and ${g.badCount - 1} more bad row(s) in this phrase)` : '';
    return { ...g.bad, reason: g.bad.reason + more };
  }
  const [r0] = g.rows;
  const id = msCxrSampleId(r0.dicomId, r0.label);
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
      const reason = `rows ${r0.row} and ${r.row} of the same phrase disagree on ${bad[0]} ("${bad[2]}" vs "${bad[1]}")`;
      return fail({ id, file, row: r.row, column: bad[0], reason });
    }
  }
  return {
    id,
    imagePath: resolve(root, r0.path), // checked to lie inside root when the row was read
    caption: r0.label,
    boxes: g.rows.map((r) => r.box),
    imageSize: { width: r0.width, height: r0.height },
    category: r0.category,
    patientId: patientIdFromPath(r0.path),
    ...(r0.split ? { split: r0.split } : {}),
    source: { file, row: r0.row },
  };
}

/** Checks each distinct image once (phrases share images); a verdict per sample, undefined when it is fine. */
function imageVerdicts(candidates: readonly Sample[], verify: VerifyImages): Promise<(string | undefined)[]> {
  const checks = new Map<string, Promise<string | undefined>>();
  const checkOnce = (s: Sample): Promise<string | undefined> => {
    let p = checks.get(s.imagePath);
    if (!p) {
      const { width, height } = s.imageSize!;
      p = imageProblem(s.imagePath, verify, (w, h) =>
        w !== width || h !== height ? `image ${s.imagePath} is ${w}×${h} but the CSV says ${width}×${height}` : undefined,
      );
      checks.set(s.imagePath, p);
    }
    return p;
  };
  return mapPool(candidates, checkConcurrency(verify), checkOnce);
}

/**
 * Loads MS-CXR phrase groundings. Rows sharing (dicom_id, label_text) are one phrase with
 * several boxes. Boxes stay in original pixels, with the original size from the CSV; the
 * model-pixel mapping (resize + centre crop) is core's job. A wrong header throws; a bad
 * row becomes a SampleError naming file, row and column (or throws with `strict`), and
 * the whole phrase it belongs to is left out. Bad rows include a `path` that is absolute
 * or climbs out of `imageRoot`, and a box that is empty or leaves the image the row
 * describes (x < 0, y < 0, x + w > image_width, y + h > image_height). A row repeated
 * exactly is kept once and recorded as a warning (`severity: 'warning'`, never thrown).
 */
export async function loadMsCxr(options: MsCxrLoadOptions): Promise<LoadResult> {
  const file = resolve(options.csv);
  const root = resolve(options.imageRoot);
  const verify = options.verifyImages ?? 'exists';
  if (!(await fileExists(file))) throw new Error(`MS-CXR CSV not found: ${file}`);
  const fail: Fail = (e) => {
    if (options.strict) {
      throw new Error(`${file}: row ${e.row}${e.column ? `, column "${e.column}"` : ''}: ${e.reason}`);
    }
    return e;
  };

  const errors: SampleError[] = [];
  const groups = await readPhraseGroups(file, root, fail, errors);
  const candidates: Sample[] = [];
  for (const g of groups.values()) {
    const s = phraseSample(g, file, root, fail);
    if ('imagePath' in s) candidates.push(s);
    else errors.push(s);
  }
  const verdicts = await imageVerdicts(candidates, verify);
  const samples = keepPassing(candidates, verdicts, errors, (s, reason) =>
    fail({ id: s.id, file, row: s.source.row, column: 'path', reason }),
  );
  samples.sort((a, b) => a.source.row - b.source.row);
  sortByRow(errors);
  return { samples, errors };
}
