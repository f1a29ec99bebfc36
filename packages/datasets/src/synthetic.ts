import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { Rng } from '@ceb/random';
import { split } from './split';
import type { Box, Sample } from './types';

/** Fixed, clearly distinct RGB colours. Each has a channel outside the background's
 * value range [88, 168], so no background pixel can ever equal a shape colour. */
export const SYNTHETIC_COLORS = {
  red: [220, 30, 30],
  orange: [245, 135, 20],
  yellow: [245, 220, 30],
  green: [30, 165, 55],
  cyan: [40, 210, 230],
  blue: [35, 75, 230],
  purple: [135, 50, 190],
  pink: [250, 150, 205],
  brown: [115, 65, 25],
  white: [252, 252, 252],
} as const satisfies Record<string, readonly [number, number, number]>;

export type SyntheticColor = keyof typeof SYNTHETIC_COLORS;
export const SYNTHETIC_SHAPES = ['circle', 'square', 'triangle', 'diamond', 'cross', 'star'] as const;
export type SyntheticShape = (typeof SYNTHETIC_SHAPES)[number];
export const SYNTHETIC_COLOR_NAMES = Object.keys(SYNTHETIC_COLORS) as SyntheticColor[];

/** The caption of a (colour, shape): "a red circle", "an orange star". */
export function syntheticCaption(color: string, shape: string): string {
  return `${/^[aeiou]/i.test(color) ? 'an' : 'a'} ${color} ${shape}`;
}

/** Every colour × shape caption (60 with the defaults): the retrieval candidates. */
export function allCaptions(
  colors: readonly string[] = SYNTHETIC_COLOR_NAMES,
  shapes: readonly string[] = SYNTHETIC_SHAPES,
): string[] {
  return colors.flatMap((c) => shapes.map((s) => syntheticCaption(c, s)));
}

// Unit-square star polygon: 5 outer points (radius 0.5) and 5 inner (radius 0.2), apex up.
const STAR = Array.from({ length: 10 }, (_, i) => {
  const r = i % 2 === 0 ? 0.5 : 0.2;
  const a = -Math.PI / 2 + (i * Math.PI) / 5;
  return [0.5 + r * Math.cos(a), 0.5 + r * Math.sin(a)] as const;
});

function inPolygon(u: number, v: number, poly: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > v !== yj > v && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether the point (u, v) of the unit square (y down) is inside the shape. */
export function insideShape(shape: SyntheticShape, u: number, v: number): boolean {
  switch (shape) {
    case 'square':
      return true;
    case 'circle':
      return (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25;
    case 'triangle': // apex at the top centre, base along the bottom
      return Math.abs(u - 0.5) <= v / 2;
    case 'diamond':
      return Math.abs(u - 0.5) + Math.abs(v - 0.5) <= 0.5;
    case 'cross': // arms one third wide
      return Math.abs(u - 0.5) <= 1 / 6 || Math.abs(v - 0.5) <= 1 / 6;
    case 'star':
      return inPolygon(u, v, STAR);
  }
}

export interface SyntheticShapeInstance {
  shape: SyntheticShape;
  color: SyntheticColor;
  /** Tight bounding box of the painted pixels. */
  box: Box;
}

export interface SyntheticImage {
  /** Sample id (also the CSV's dicom_id). */
  id: string;
  patientId: string;
  studyId: string;
  /** Path relative to the output directory, e.g. files/p10000001/s50000001/<id>.png */
  path: string;
  caption: string;
  target: number;
  shapes: SyntheticShapeInstance[];
  split: 'train' | 'test';
}

export interface SyntheticOptions {
  outDir: string;
  count: number;
  seed: number;
  /** Image side in pixels; default 224. */
  size?: number;
  shapes?: readonly SyntheticShape[];
  colors?: readonly SyntheticColor[];
  /** Which layouts to write; default both. */
  layouts?: readonly ('mscxr' | 'cc')[];
}

export interface SyntheticSet {
  outDir: string;
  images: SyntheticImage[];
  /** MS-CXR layout CSV (load with loadMsCxr({ csv, imageRoot: outDir })). */
  mscxrCsv?: string;
  /** CC layout TSV with paths relative to the TSV (load with loadConceptualCaptions({ tsv })). */
  ccTsv?: string;
  /** Everything above plus each image's shapes, as JSON. */
  manifest: string;
}

export const SYNTHETIC_MSCXR_FILE = 'synthetic_mscxr.csv';
export const SYNTHETIC_CC_FILE = 'synthetic_cc.tsv';
export const SYNTHETIC_MANIFEST_FILE = 'synthetic.json';

function paintBackground(px: Uint8Array, size: number, rng: Rng): void {
  // Diagonal stripes plus per-pixel noise and a slight tint: a texture, not a flat colour,
  // so explanations cannot win by finding "anything that is not the background".
  const period = rng.range(10, 28);
  const angle = rng.next() * Math.PI;
  const ca = Math.cos(angle);
  const sa = Math.sin(angle);
  const tint = [rng.range(-6, 6), rng.range(-6, 6), rng.range(-6, 6)];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const stripe = 18 * Math.sin((2 * Math.PI * (x * ca + y * sa)) / period);
      const noise = rng.range(-10, 10);
      for (let c = 0; c < 3; c++) {
        const v = Math.round(128 + stripe + noise + tint[c]);
        px[(y * size + x) * 3 + c] = Math.max(88, Math.min(168, v));
      }
    }
  }
}

/** Paints a shape into a side×side cell at (x0, y0); returns the tight box of painted pixels. */
function paintShape(
  px: Uint8Array,
  size: number,
  shape: SyntheticShape,
  rgb: readonly number[],
  x0: number,
  y0: number,
  side: number,
): Box {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let j = 0; j < side; j++) {
    for (let i = 0; i < side; i++) {
      if (!insideShape(shape, (i + 0.5) / side, (j + 0.5) / side)) continue;
      const x = x0 + i;
      const y = y0 + j;
      const o = (y * size + x) * 3;
      px[o] = rgb[0];
      px[o + 1] = rgb[1];
      px[o + 2] = rgb[2];
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
    }
  }
  return { x: minX, y: minY, w: maxX - minX + 1, h: maxY - minY + 1 };
}

/** Picks 2–4 distinct (colour, shape) pairs: the target first, then a distractor sharing its colour or shape. */
function pickObjects(
  rng: Rng,
  colors: readonly SyntheticColor[],
  shapes: readonly SyntheticShape[],
  count?: number,
  fixedTarget?: { color: SyntheticColor; shape: SyntheticShape },
) {
  const combos = colors.length * shapes.length;
  // An explicit count draws no number for it, an explicit target no colour or shape (the
  // default path draws exactly as before).
  const n = count === undefined ? Math.min(rng.range(2, 4), combos) : Math.min(count, combos);
  const target = fixedTarget ?? { color: rng.pick(colors), shape: rng.pick(shapes) };
  const objs = [target];
  const has = (c: string, s: string) => objs.some((o) => o.color === c && o.shape === s);
  if (n >= 2) {
    const otherShapes = shapes.filter((s) => s !== target.shape);
    const otherColors = colors.filter((c) => c !== target.color);
    const shareColor = otherShapes.length > 0 && (otherColors.length === 0 || rng.next() < 0.5);
    objs.push(
      shareColor
        ? { color: target.color, shape: rng.pick(otherShapes) }
        : { color: rng.pick(otherColors), shape: target.shape },
    );
  }
  while (objs.length < n) {
    const c = rng.pick(colors);
    const s = rng.pick(shapes);
    if (!has(c, s)) objs.push({ color: c, shape: s });
  }
  return objs;
}

export interface SyntheticScene {
  /** RGB bytes, row-major, size × size × 3. */
  pixels: Uint8Array;
  /** The shapes placed, the captioned one first. */
  shapes: SyntheticShapeInstance[];
}

/**
 * Paints one scene in memory (what generateSyntheticSet writes per image, drawing the same
 * numbers from `rng`): a textured background and 2–4 shapes, the first one the captioned
 * target. `objects` overrides how many shapes to pick (e.g. 1 for single-object scenes;
 * the target then has no distractor). `target` fixes the captioned shape instead of
 * drawing it (the Tiny-ImageNet stand-in paints one class per image this way); without it
 * the draws are exactly those of earlier versions. Used for training and in-memory evaluation.
 */
export function renderSyntheticScene(
  rng: Rng,
  size = 224,
  colors: readonly SyntheticColor[] = SYNTHETIC_COLOR_NAMES,
  shapes: readonly SyntheticShape[] = SYNTHETIC_SHAPES,
  objects?: number,
  target?: { color: SyntheticColor; shape: SyntheticShape },
): SyntheticScene {
  if (objects !== undefined && (!Number.isInteger(objects) || objects < 1)) {
    throw new Error(`renderSyntheticScene: objects must be a positive integer, got ${objects}`);
  }
  const minSide = Math.round(0.16 * size);
  const maxSide = Math.round(0.32 * size);
  const gap = 6; // pixels between shape cells, so boxes never touch
  const px = new Uint8Array(size * size * 3);
  paintBackground(px, size, rng);
  const objs =
    objects === undefined && target === undefined
      ? pickObjects(rng, colors, shapes)
      : pickObjects(rng, colors, shapes, objects, target);
  const cells: { x: number; y: number; side: number }[] = [];
  const placed: SyntheticShapeInstance[] = [];
  for (const o of objs) {
    for (let tries = 0; tries < 500; tries++) {
      const side = rng.range(minSide, maxSide);
      const x = rng.range(4, size - 4 - side);
      const y = rng.range(4, size - 4 - side);
      const clash = cells.some(
        (c) => x < c.x + c.side + gap && c.x < x + side + gap && y < c.y + c.side + gap && c.y < y + side + gap,
      );
      if (clash) continue;
      cells.push({ x, y, side });
      const box = paintShape(px, size, o.shape, SYNTHETIC_COLORS[o.color], x, y, side);
      placed.push({ shape: o.shape, color: o.color, box });
      break;
    }
  }
  return { pixels: px, shapes: placed };
}

/** Throws on options the generator cannot honour. */
function checkSyntheticOptions(
  count: number,
  size: number,
  shapes: readonly SyntheticShape[],
  colors: readonly SyntheticColor[],
  layouts: readonly string[],
): void {
  if (!Number.isInteger(count) || count < 1) throw new Error(`synthetic: count must be a positive integer, got ${count}`);
  if (!Number.isInteger(size) || size < 64) throw new Error(`synthetic: size must be an integer ≥ 64, got ${size}`);
  for (const s of shapes) if (!SYNTHETIC_SHAPES.includes(s)) throw new Error(`synthetic: unknown shape "${s}"; known: ${SYNTHETIC_SHAPES.join(', ')}`);
  for (const c of colors) if (!(c in SYNTHETIC_COLORS)) throw new Error(`synthetic: unknown colour "${c}"; known: ${SYNTHETIC_COLOR_NAMES.join(', ')}`);
  if (shapes.length * colors.length < 2) throw new Error('synthetic: need at least two (colour, shape) combinations for distractors');
  for (const l of layouts) if (l !== 'mscxr' && l !== 'cc') throw new Error(`synthetic: unknown layout "${l}"; use mscxr or cc`);
}

/**
 * Paints and writes the `count` images (PNG, MIMIC-like paths), 1–3 consecutive images
 * per patient so the patient split is exercised. Every image starts in 'train'.
 */
async function writeSyntheticImages(
  outDir: string,
  rng: Rng,
  count: number,
  seed: number,
  size: number,
  colors: readonly SyntheticColor[],
  shapes: readonly SyntheticShape[],
): Promise<SyntheticImage[]> {
  const images: SyntheticImage[] = [];
  let patient = 10_000_000;
  let imagesLeftForPatient = 0;
  for (let n = 0; n < count; n++) {
    if (imagesLeftForPatient === 0) {
      patient++;
      imagesLeftForPatient = rng.range(1, 3);
    }
    imagesLeftForPatient--;
    const patientId = `p${patient}`;
    const studyId = `s${50_000_000 + n + 1}`;
    const id = `synth-${seed}-${String(n + 1).padStart(5, '0')}`;

    const { pixels: px, shapes: placed } = renderSyntheticScene(rng, size, colors, shapes);
    if (placed.length < 2) throw new Error(`synthetic: could not place shapes in image ${id} (size ${size} too small?)`);
    const path = `files/${patientId}/${studyId}/${id}.png`;
    const file = join(outDir, path);
    await mkdir(dirname(file), { recursive: true });
    await sharp(Buffer.from(px.buffer), { raw: { width: size, height: size, channels: 3 } }).png().toFile(file);
    const caption = syntheticCaption(placed[0].color, placed[0].shape);
    images.push({ id, patientId, studyId, path, caption, target: 0, shapes: placed, split: 'train' });
  }
  return images;
}

/** The set's own split column: seeded, by patient, 80/20 (as MS-CXR v1.1.0 has one). */
function assignSplits(images: SyntheticImage[], seed: number): void {
  const asSamples: Sample[] = images.map((im, i) => ({
    id: im.id,
    imagePath: im.path,
    caption: im.caption,
    patientId: im.patientId,
    source: { file: '', row: i },
  }));
  const testIds = new Set(split(asSamples, { seed, by: 'patient' }).test.map((s) => s.id));
  for (const im of images) im.split = testIds.has(im.id) ? 'test' : 'train';
}

/** Writes the MS-CXR layout CSV (one row per image: the target's box). */
async function writeMsCxrLayout(file: string, images: readonly SyntheticImage[], size: number): Promise<void> {
  const lines = ['dicom_id,category_name,label_text,path,x,y,w,h,image_width,image_height,split'];
  for (const im of images) {
    const t = im.shapes[im.target];
    const { x, y, w, h } = t.box;
    lines.push([im.id, t.shape, im.caption, im.path, x, y, w, h, size, size, im.split].join(','));
  }
  await writeFile(file, lines.join('\n') + '\n');
}

/**
 * Generates the synthetic grounding set: `count` images of 2–4 coloured shapes on a
 * textured background, each with the caption "a <colour> <shape>" naming exactly one of
 * them (no other shape in the image has both its colour and its shape; at least one
 * shares one of the two) and that shape's tight box. Several images share a patient, so
 * the patient split is exercised. Seeded: the same options give the same bytes.
 */
export async function generateSyntheticSet(options: SyntheticOptions): Promise<SyntheticSet> {
  const size = options.size ?? 224;
  const shapes = options.shapes ?? SYNTHETIC_SHAPES;
  const colors = options.colors ?? SYNTHETIC_COLOR_NAMES;
  const layouts = options.layouts ?? ['mscxr', 'cc'];
  const { count, seed } = options;
  checkSyntheticOptions(count, size, shapes, colors, layouts);

  const outDir = resolve(options.outDir);
  const images = await writeSyntheticImages(outDir, new Rng(seed), count, seed, size, colors, shapes);
  assignSplits(images, seed);

  await mkdir(outDir, { recursive: true });
  const result: SyntheticSet = { outDir, images, manifest: join(outDir, SYNTHETIC_MANIFEST_FILE) };
  if (layouts.includes('mscxr')) {
    result.mscxrCsv = join(outDir, SYNTHETIC_MSCXR_FILE);
    await writeMsCxrLayout(result.mscxrCsv, images, size);
  }
  if (layouts.includes('cc')) {
    result.ccTsv = join(outDir, SYNTHETIC_CC_FILE);
    await writeFile(result.ccTsv, images.map((im) => `${im.caption}\t${im.path}\n`).join(''));
  }
  await writeFile(
    result.manifest,
    JSON.stringify({ seed, count, size, shapes, colors, captions: allCaptions(colors, shapes), images }, null, 1) + '\n',
  );
  return result;
}
