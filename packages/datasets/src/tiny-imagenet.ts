import { readdir, mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import sharp from 'sharp';
import { Rng } from '@ceb/random';
import { resolveInside } from './confine';
import { boxFromInclusiveCorners, inclusiveCornerBoxProblem, inclusiveCorners } from './boxes';
import { checkConcurrency, imageProblem, mapPool } from './image';
import { readRequiredText, tabSeparatedPairs, textLines } from './rows';
import {
  SYNTHETIC_COLOR_NAMES,
  SYNTHETIC_SHAPES,
  renderSyntheticScene,
  type SyntheticColor,
  type SyntheticShape,
} from './synthetic';
import type { Box, ImageSize, LoadResult, Sample, SampleError, VerifyImages } from './types';

/** Files of the Tiny-ImageNet release (`tiny-imagenet-200/`) that the validation loader reads. */
export const TINY_IMAGENET_FILES = {
  wnids: 'wnids.txt',
  words: 'words.txt',
  annotations: join('val', 'val_annotations.txt'),
  images: join('val', 'images'),
} as const;

/** Every Tiny-ImageNet image is 64 × 64 (the release's own description). */
export const TINY_IMAGENET_SIZE: ImageSize = { width: 64, height: 64 };

/** The prompt NIB puts before the class name (datasets.py:75 at d4d1138). */
export const TINY_IMAGENET_PROMPT = 'a photo of a ';

/** 'full': NIB's caption, the whole words.txt entry (synonyms included); 'first-name': its first name only. */
export type TinyImageNetCaption = 'full' | 'first-name';

export interface TinyImageNetLoadOptions {
  /** The `tiny-imagenet-200` folder (holding wnids.txt, words.txt and val/). */
  root: string;
  /** Images per class, the first ones in sorted file-name order; default 5 (NIB's). */
  perClass?: number;
  /** Default 'full' (NIB's). */
  caption?: TinyImageNetCaption;
  /**
   * 'exists' (default): list val/images (as NIB's glob does) and use only images that are
   * there; 'decode': also decode each picked image and compare its size with `imageSize`
   * (a broken one is an error and the next image of its class is taken); 'none': trust
   * val_annotations.txt and read no folder.
   */
  verifyImages?: VerifyImages;
  /** The size every image has, for the box bounds check; default 64 × 64 (the release's). */
  imageSize?: ImageSize;
}

export interface TinyImageNetClass {
  wnid: string;
  /** The words.txt entry, e.g. "goldfish, Carassius auratus". */
  names: string;
  /** The caption of this class's samples. */
  caption: string;
  /** 1-based row in wnids.txt. */
  row: number;
}

export interface TinyImageNetLoadResult extends LoadResult {
  /** The classes in wnids.txt order (those with a words.txt entry): the zero-shot candidates. */
  classes: TinyImageNetClass[];
}

/** The caption of a class: "a photo of a " + the whole entry, or + its first comma-separated name. */
export function tinyImageNetCaption(names: string, mode: TinyImageNetCaption = 'full'): string {
  const text = mode === 'first-name' ? names.split(',')[0].trim() : names.trim();
  return TINY_IMAGENET_PROMPT + text;
}

const WNID_RE = /^n\d{8}$/;

function readRequired(file: string, what: string): Promise<string> {
  return readRequiredText(file, `Tiny-ImageNet ${what} not found: ${file} (expected the tiny-imagenet-200 release layout)`);
}

interface AnnRow {
  row: number;
  file: string;
  wnid: string;
  box: Box;
  raw: string;
}

/** Where the loader reads each release file. */
interface TinyImageNetPaths {
  wnidsFile: string;
  wordsFile: string;
  annFile: string;
  imagesDir: string;
}

/** The validated options, defaults filled in. */
interface TinyImageNetSettings {
  root: string;
  perClass: number;
  mode: TinyImageNetCaption;
  verify: VerifyImages;
  size: ImageSize;
}

function tinyImageNetSettings(options: TinyImageNetLoadOptions): TinyImageNetSettings {
  const root = resolve(options.root);
  const perClass = options.perClass ?? 5;
  const mode = options.caption ?? 'full';
  const verify = options.verifyImages ?? 'exists';
  const size = options.imageSize ?? TINY_IMAGENET_SIZE;
  if (!Number.isInteger(perClass) || perClass < 1) {
    throw new Error(`loadTinyImageNet: perClass must be a positive integer, got ${perClass}`);
  }
  if (mode !== 'full' && mode !== 'first-name') {
    throw new Error(`loadTinyImageNet: caption must be "full" or "first-name", got "${mode}"`);
  }
  return { root, perClass, mode, verify, size };
}

function tinyImageNetPaths(root: string): TinyImageNetPaths {
  return {
    wnidsFile: join(root, TINY_IMAGENET_FILES.wnids),
    wordsFile: join(root, TINY_IMAGENET_FILES.words),
    annFile: join(root, TINY_IMAGENET_FILES.annotations),
    imagesDir: join(root, TINY_IMAGENET_FILES.images),
  };
}

/** wnids.txt: one WordNet id per line; the class order. Returns each wnid's row. */
async function readWnids(wnidsFile: string, errors: SampleError[]): Promise<Map<string, number>> {
  const wnidRow = new Map<string, number>();
  for (const [row, line] of textLines(await readRequired(wnidsFile, 'wnids.txt'))) {
    const wnid = line.trim();
    if (!WNID_RE.test(wnid)) {
      errors.push({ file: wnidsFile, row, column: 'wnid', reason: `expected a WordNet id (n + 8 digits), found "${wnid}"` });
    } else if (wnidRow.has(wnid)) {
      errors.push({ file: wnidsFile, row, column: 'wnid', reason: `${wnid} is listed again (first on row ${wnidRow.get(wnid)}); kept once`, severity: 'warning' });
    } else wnidRow.set(wnid, row);
  }
  if (wnidRow.size === 0) throw new Error(`${wnidsFile}: no WordNet ids (expected one per line, e.g. n01443537)`);
  return wnidRow;
}

/**
 * words.txt: "wnid<TAB>comma-separated names" for all of WordNet; the first entry of a
 * wnid counts (as in NIB). A second entry is a warning only for a class of wnids.txt.
 */
async function readWords(
  wordsFile: string,
  wnidRow: ReadonlyMap<string, number>,
  errors: SampleError[],
): Promise<Map<string, { names: string; row: number }>> {
  const names = new Map<string, { names: string; row: number }>();
  const text = await readRequired(wordsFile, 'words.txt');
  for (const [row, wnid, entry] of tabSeparatedPairs(text, wordsFile, 'wnid<TAB>names', errors)) {
    if (!WNID_RE.test(wnid)) {
      errors.push({ file: wordsFile, row, column: 'wnid', reason: `expected a WordNet id (n + 8 digits), found "${wnid}"` });
      continue;
    }
    if (entry === '') {
      errors.push({ file: wordsFile, row, column: 'names', reason: `empty names for ${wnid}` });
      continue;
    }
    const first = names.get(wnid);
    if (first) {
      if (wnidRow.has(wnid)) {
        errors.push({
          file: wordsFile,
          row,
          column: 'wnid',
          reason: `${wnid} has a second entry ("${entry}"; the first, row ${first.row}, is used)`,
          severity: 'warning',
        });
      }
      continue;
    }
    names.set(wnid, { names: entry, row });
  }
  return names;
}

/** The classes of wnids.txt, in its order, that have a words.txt entry; each one without is an error. */
function classesWithNames(
  wnidRow: ReadonlyMap<string, number>,
  names: ReadonlyMap<string, { names: string }>,
  wordsFile: string,
  mode: TinyImageNetCaption,
  errors: SampleError[],
): TinyImageNetClass[] {
  const classes: TinyImageNetClass[] = [];
  for (const [wnid, row] of wnidRow) {
    const n = names.get(wnid);
    if (!n) {
      errors.push({ file: wordsFile, column: 'wnid', reason: `no entry for ${wnid} (wnids.txt row ${row}): its images are left out` });
      continue;
    }
    classes.push({ wnid, names: n.names, caption: tinyImageNetCaption(n.names, mode), row });
  }
  return classes;
}

const ANN_COLUMNS = ['file', 'wnid', 'x0', 'y0', 'x1', 'y1'] as const;

/** Why an annotation row is unusable: the column to blame (if any), the reason and the sample id (if known). */
interface AnnProblem {
  column?: string;
  reason: string;
  id?: string;
}

/** Parses the trimmed fields of one val_annotations.txt row into an AnnRow, or says what is wrong with it. */
function parseAnnotation(
  f: string[],
  row: number,
  imagesDir: string,
  wnidRow: ReadonlyMap<string, number>,
  size: ImageSize,
): { ann: AnnRow } | { problem: AnnProblem } {
  if (f.length !== ANN_COLUMNS.length) {
    return { problem: { reason: `expected 6 tab-separated fields "file<TAB>wnid<TAB>x0<TAB>y0<TAB>x1<TAB>y1", found ${f.length}` } };
  }
  const [file, wnid] = f;
  const id = file ? `tiny-imagenet:${file}` : undefined;
  const inside = resolveInside(imagesDir, file, 'val/images');
  if (!inside.ok) return { problem: { column: 'file', reason: inside.reason, id } };
  if (basename(file) !== file) return { problem: { column: 'file', reason: `expected a file name in val/images, found the path "${file}"`, id } };
  if (!wnidRow.has(wnid)) return { problem: { column: 'wnid', reason: `"${wnid}" is not a class of wnids.txt`, id } };
  const c: Record<string, number> = {};
  for (const k of ['x0', 'y0', 'x1', 'y1'] as const) {
    const raw = f[ANN_COLUMNS.indexOf(k)];
    const v = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(v)) return { problem: { column: k, reason: `expected an integer pixel coordinate, found "${raw}"`, id } };
    c[k] = v;
  }
  const boxProblem = inclusiveCornerBoxProblem(c.x0, c.y0, c.x1, c.y1, size);
  if (boxProblem) return { problem: { ...boxProblem, id } };
  return { ann: { row, file, wnid, box: boxFromInclusiveCorners(c.x0, c.y0, c.x1, c.y1), raw: f.join('\t') } };
}

/** The usable annotation rows: by image file, by class (in file order), and every file name a row starts with. */
interface Annotations {
  byFile: Map<string, AnnRow>;
  rowsOf: Map<string, AnnRow[]>;
  /** Good row or bad (a bad row's image already has its error). */
  named: Set<string>;
}

/** val/val_annotations.txt: "file<TAB>wnid<TAB>x0<TAB>y0<TAB>x1<TAB>y1"; one row per image. */
async function readAnnotations(
  paths: TinyImageNetPaths,
  wnidRow: ReadonlyMap<string, number>,
  size: ImageSize,
  errors: SampleError[],
): Promise<Annotations> {
  const { annFile, imagesDir } = paths;
  const out: Annotations = { byFile: new Map(), rowsOf: new Map(), named: new Set() };
  for (const [row, line] of textLines(await readRequired(annFile, 'val/val_annotations.txt'))) {
    const f = line.split('\t').map((x) => x.trim());
    out.named.add(f[0]);
    const parsed = parseAnnotation(f, row, imagesDir, wnidRow, size);
    if ('problem' in parsed) {
      const { id, column, reason } = parsed.problem;
      errors.push({ ...(id ? { id } : {}), file: annFile, row, ...(column ? { column } : {}), reason });
      continue;
    }
    const { ann } = parsed;
    const id = `tiny-imagenet:${ann.file}`;
    const earlier = out.byFile.get(ann.file);
    if (earlier) {
      if (earlier.raw === ann.raw) {
        errors.push({ id, file: annFile, row, reason: `duplicate of row ${earlier.row}; kept once`, severity: 'warning' });
      } else {
        const was = earlier.raw.split('\t').slice(1).join(' ');
        errors.push({ id, file: annFile, row, column: 'file', reason: `${ann.file} is already annotated on row ${earlier.row} (${was}); this row is left out` });
      }
      continue;
    }
    out.byFile.set(ann.file, ann);
    let list = out.rowsOf.get(ann.wnid);
    if (!list) out.rowsOf.set(ann.wnid, (list = []));
    list.push(ann);
  }
  return out;
}

/**
 * val/images: what NIB's glob('val/images/*.JPEG') sees (case-sensitive, no dot files).
 * An image no row names, and a row whose image is missing, are errors.
 */
async function listImages(paths: TinyImageNetPaths, ann: Annotations, errors: SampleError[]): Promise<Set<string>> {
  const { annFile, imagesDir } = paths;
  let entries;
  try {
    entries = await readdir(imagesDir, { withFileTypes: true });
  } catch {
    throw new Error(`Tiny-ImageNet image folder not found: ${imagesDir} (expected the tiny-imagenet-200 release layout)`);
  }
  const present = new Set(
    entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && e.name.endsWith('.JPEG') && !e.name.startsWith('.')).map((e) => e.name),
  );
  for (const name of [...present].sort()) {
    if (!ann.named.has(name)) {
      errors.push({ file: join(imagesDir, name), reason: `no row for this image in ${annFile}; it is not used` });
    }
  }
  for (const a of ann.byFile.values()) {
    if (!present.has(a.file)) {
      errors.push({ id: `tiny-imagenet:${a.file}`, file: annFile, row: a.row, column: 'file', reason: `image not found: ${join(imagesDir, a.file)}` });
    }
  }
  return present;
}

/**
 * The first `perClass` usable images of a class in sorted file order (code-unit order:
 * val_10.JPEG before val_2.JPEG, as Python's sorted()); too few is a warning.
 */
async function pickClassSamples(
  cls: TinyImageNetClass,
  rowsOfClass: readonly AnnRow[],
  present: ReadonlySet<string> | undefined,
  settings: TinyImageNetSettings,
  paths: TinyImageNetPaths,
): Promise<{ picked: Sample[]; problems: SampleError[] }> {
  const { perClass, verify, size } = settings;
  const { annFile, imagesDir, wnidsFile } = paths;
  const rows = rowsOfClass.slice().sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const picked: Sample[] = [];
  const problems: SampleError[] = [];
  for (const a of rows) {
    if (picked.length >= perClass) break;
    if (present && !present.has(a.file)) continue; // already recorded by listImages
    const imagePath = join(imagesDir, a.file);
    const id = `tiny-imagenet:${a.file}`;
    if (verify === 'decode') {
      const reason = await imageProblem(imagePath, 'decode', (width, height) =>
        width !== size.width || height !== size.height ? `image ${imagePath} is ${width}×${height}, expected ${size.width}×${size.height}` : undefined,
      );
      if (reason) {
        problems.push({ id, file: annFile, row: a.row, column: 'file', reason });
        continue;
      }
    }
    picked.push({
      id,
      imagePath,
      caption: cls.caption,
      boxes: [a.box],
      imageSize: { ...size },
      category: cls.wnid,
      source: { file: annFile, row: a.row },
    });
  }
  if (picked.length < perClass) {
    problems.push({
      file: wnidsFile,
      row: cls.row,
      column: 'wnid',
      reason: `class ${cls.wnid} ("${cls.names}") has ${picked.length} usable validation image${picked.length === 1 ? '' : 's'}; ${perClass} wanted`,
      severity: 'warning',
    });
  }
  return { picked, problems };
}

/**
 * Loads the Tiny-ImageNet validation images the way NIB builds its ImageNet table
 * (github.com/LMBTough/NIB datasets.py:61-85 at d4d1138), except that each class's images
 * are taken in SORTED file-name order instead of glob order: `perClass` (5) images per
 * class, classes in wnids.txt order, caption "a photo of a <words.txt entry>", the box of
 * val_annotations.txt (x0, y0, x1, y1 with x1, y1 inclusive → {x: x0, y: y0, w: x1 − x0 + 1,
 * h: y1 − y0 + 1}), category = wnid. Bad rows are errors naming file, row and column; a class
 * with fewer usable images than `perClass` is a warning.
 */
export async function loadTinyImageNet(options: TinyImageNetLoadOptions): Promise<TinyImageNetLoadResult> {
  const settings = tinyImageNetSettings(options);
  const paths = tinyImageNetPaths(settings.root);
  const errors: SampleError[] = [];
  const wnidRow = await readWnids(paths.wnidsFile, errors);
  const names = await readWords(paths.wordsFile, wnidRow, errors);
  const classes = classesWithNames(wnidRow, names, paths.wordsFile, settings.mode, errors);
  const ann = await readAnnotations(paths, wnidRow, settings.size, errors);
  const present = settings.verify === 'none' ? undefined : await listImages(paths, ann, errors);
  const perClassSamples = await mapPool(classes, checkConcurrency(settings.verify), (cls) =>
    pickClassSamples(cls, ann.rowsOf.get(cls.wnid) ?? [], present, settings, paths),
  );
  const samples = perClassSamples.flatMap((x) => x.picked);
  errors.push(...perClassSamples.flatMap((x) => x.problems));
  return { samples, errors, classes };
}

export interface TinyImageNetStandInOptions {
  /** The folder to write (it plays tiny-imagenet-200/). */
  outDir: string;
  /** Number of classes; default 4 (at most 60, one per synthetic colour × shape). */
  classes?: number;
  /** Validation images per class; default 12 (the release has 50). */
  imagesPerClass?: number;
  seed?: number;
  /** Image side; default 64 (the release's). */
  size?: number;
}

export interface TinyImageNetStandIn {
  root: string;
  /** In wnids.txt order. */
  classes: { wnid: string; names: string; color: SyntheticColor; shape: SyntheticShape }[];
  /** Every validation image, in val_annotations.txt order; box in loader convention (w, h). */
  images: { file: string; wnid: string; box: Box }[];
}

/** A few real WordNet entries that are no class, as the real words.txt holds all of WordNet. */
const OTHER_WORDS: [string, string][] = [
  ['n00001740', 'entity'],
  ['n00001930', 'physical entity'],
  ['n00002137', 'abstraction, abstract entity'],
];

/**
 * Writes a small stand-in for the Tiny-ImageNet release, in its exact layout:
 * `wnids.txt` (class ids, in a seeded order), `words.txt` ("wnid<TAB>names", sorted by wnid,
 * with entries that are no class), `val/val_annotations.txt` (val_0.JPEG … in order, classes
 * shuffled among them, boxes as x0 y0 x1 y1 with x1, y1 inclusive) and `val/images/*.JPEG`.
 * Each class is a synthetic colour × shape; each image is a synthetic scene whose captioned
 * shape is its class and whose box is that shape's tight box. Seeded.
 */
export async function generateTinyImageNetStandIn(options: TinyImageNetStandInOptions): Promise<TinyImageNetStandIn> {
  const nClasses = options.classes ?? 4;
  const perClass = options.imagesPerClass ?? 12;
  const seed = options.seed ?? 0;
  const size = options.size ?? 64;
  const combos = SYNTHETIC_COLOR_NAMES.flatMap((color) => SYNTHETIC_SHAPES.map((shape) => ({ color, shape })));
  if (!Number.isInteger(nClasses) || nClasses < 1 || nClasses > combos.length) {
    throw new Error(`tiny-imagenet stand-in: classes must be an integer in [1, ${combos.length}], got ${nClasses}`);
  }
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`tiny-imagenet stand-in: imagesPerClass must be a positive integer, got ${perClass}`);
  if (!Number.isInteger(size) || size < 48) throw new Error(`tiny-imagenet stand-in: size must be an integer ≥ 48, got ${size}`);

  const root = resolve(options.outDir);
  const rng = new Rng(seed);
  const chosen = rng.sample(combos, nClasses);
  const classes = chosen.map((c, k) => ({
    wnid: `n${String(90_000_001 + k * 17)}`,
    names: `${c.color} ${c.shape}, ${c.shape} in ${c.color}, ${c.color} figure`,
    color: c.color,
    shape: c.shape,
  }));
  const order = rng.shuffle(classes);
  const labels = rng.shuffle(classes.flatMap((c) => Array.from({ length: perClass }, () => c)));

  await mkdir(join(root, TINY_IMAGENET_FILES.images), { recursive: true });
  await writeFile(join(root, TINY_IMAGENET_FILES.wnids), order.map((c) => c.wnid + '\n').join(''));
  const words = [...OTHER_WORDS, ...classes.map((c) => [c.wnid, c.names] as [string, string])].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  await writeFile(join(root, TINY_IMAGENET_FILES.words), words.map(([w, n]) => `${w}\t${n}\n`).join(''));

  const images: TinyImageNetStandIn['images'] = [];
  const annLines: string[] = [];
  for (let i = 0; i < labels.length; i++) {
    const cls = labels[i];
    const { pixels, shapes } = renderSyntheticScene(rng, size, SYNTHETIC_COLOR_NAMES, SYNTHETIC_SHAPES, undefined, {
      color: cls.color,
      shape: cls.shape,
    });
    const file = `val_${i}.JPEG`;
    await sharp(Buffer.from(pixels.buffer), { raw: { width: size, height: size, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(join(root, TINY_IMAGENET_FILES.images, file));
    const box = shapes[0].box;
    images.push({ file, wnid: cls.wnid, box });
    annLines.push([file, cls.wnid, ...inclusiveCorners(box)].join('\t'));
  }
  await writeFile(join(root, TINY_IMAGENET_FILES.annotations), annLines.map((l) => l + '\n').join(''));
  return { root, classes: order, images };
}
