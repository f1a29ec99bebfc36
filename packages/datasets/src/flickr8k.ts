import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { Rng } from '@ceb/random';
import { resolveInside } from './confine';
import { checkConcurrency, fileExists, imageProblem, mapPool } from './image';
import { keepPassing, readRequiredText, tabSeparatedPairs, textLines } from './rows';
import { renderSyntheticScene } from './synthetic';
import type { LoadResult, Sample, SampleError, SplitName, VerifyImages } from './types';

/** File and folder names of the Flickr8k release (Flickr8k_text.zip and Flickr8k_Dataset.zip). */
export const FLICKR8K_FILES = {
  tokens: 'Flickr8k.token.txt',
  train: 'Flickr_8k.trainImages.txt',
  dev: 'Flickr_8k.devImages.txt',
  test: 'Flickr_8k.testImages.txt',
  /** The image folder, spelled as in the release ("Flicker"). */
  images: 'Flicker8k_Dataset',
} as const;

export type Flickr8kSplit = 'train' | 'dev' | 'test' | 'all';

export interface Flickr8kLoadOptions {
  /** The folder holding Flickr8k.token.txt, the Flickr_8k.*Images.txt split files and Flicker8k_Dataset/. */
  root: string;
  /** Which images: a split file's ('dev' by default: NIB reads a validation file), or 'all' (every image
   * of the token file, in its order). */
  split?: Flickr8kSplit;
  /** Where the text files are, when not in root (the two zips may be unpacked apart). */
  textDir?: string;
  /** Where the images are; default <root>/Flicker8k_Dataset. Image names must stay inside it. */
  imageDir?: string;
  /** 'exists' (default) stats each image; 'decode' decodes it; 'none' neither. */
  verifyImages?: VerifyImages;
}

const SPLIT_NAME: Record<'train' | 'dev' | 'test', SplitName> = { train: 'train', dev: 'val', test: 'test' };

interface Group {
  name: string;
  /** Row of the first caption. */
  row: number;
  captions: { n: number; text: string; row: number }[];
}

/** An image name picked for loading, with the file and row that name it. */
interface NamedImage {
  name: string;
  file: string;
  row: number;
}

/** Flickr8k.token.txt: "<image>.jpg#<n><TAB><caption>", five per image. Returns the captions grouped by image, in file order. */
async function readCaptionGroups(tokenFile: string, errors: SampleError[]): Promise<Map<string, Group>> {
  const groups = new Map<string, Group>();
  const text = await readRequiredText(
    tokenFile,
    `Flickr8k caption file not found: ${tokenFile} (it is in Flickr8k_text.zip; pass textDir if it is not in root)`,
  );
  for (const [row, key, caption] of tabSeparatedPairs(text, tokenFile, 'image#n<TAB>caption', errors)) {
    const m = /^(.+)#(\d+)$/.exec(key);
    if (!m) {
      errors.push({ file: tokenFile, row, column: 'caption_id', reason: `expected "<image file>#<caption number>", found "${key}"` });
      continue;
    }
    const [, name, num] = m;
    const id = `flickr8k:${name}`;
    if (caption === '') {
      errors.push({ id, file: tokenFile, row, column: 'caption', reason: 'empty caption' });
      continue;
    }
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, row, captions: [] }));
    const n = Number(num);
    const twin = g.captions.find((c) => c.n === n);
    if (twin) {
      if (twin.text === caption) {
        errors.push({ id, file: tokenFile, row, reason: `duplicate of row ${twin.row} (${key}); kept once`, severity: 'warning' });
      } else {
        errors.push({ id, file: tokenFile, row, column: 'caption_id', reason: `${key} is already on row ${twin.row} with another caption; this row is left out` });
      }
      continue;
    }
    g.captions.push({ n, text: caption, row });
  }
  return groups;
}

/**
 * The split files: one image name per line. Returns which split first lists each image,
 * and the images of `which` in its file's order (undefined for 'all'); a missing split
 * file is an error only for `which`, and so are names listed twice.
 */
async function readSplitFiles(
  textDir: string,
  which: Flickr8kSplit,
  errors: SampleError[],
): Promise<{ splitOf: Map<string, 'train' | 'dev' | 'test'>; chosen?: NamedImage[] }> {
  const splitOf = new Map<string, 'train' | 'dev' | 'test'>();
  let chosen: NamedImage[] | undefined;
  for (const s of ['train', 'dev', 'test'] as const) {
    const file = join(textDir, FLICKR8K_FILES[s]);
    if (!(await fileExists(file))) {
      if (s === which) throw new Error(`Flickr8k split file not found: ${file} (it is in Flickr8k_text.zip)`);
      continue;
    }
    const list: NamedImage[] = [];
    const seen = new Map<string, number>();
    for (const [row, line] of textLines(await readFile(file, 'utf8'))) {
      const name = line.trim();
      const earlier = seen.get(name);
      if (earlier !== undefined) {
        if (s === which) errors.push({ id: `flickr8k:${name}`, file, row, reason: `${name} is listed again (first on row ${earlier}); kept once`, severity: 'warning' });
        continue;
      }
      seen.set(name, row);
      if (!splitOf.has(name)) splitOf.set(name, s);
      list.push({ name, file, row });
    }
    if (s === which) chosen = list;
  }
  return { splitOf, chosen };
}

/**
 * A Sample for each chosen image whose name stays inside `imageDir` and that has captions,
 * with where the image was named (for errors about its file); every other one is an error.
 */
function captionedCandidates(
  chosen: readonly NamedImage[],
  groups: ReadonlyMap<string, Group>,
  splitOf: ReadonlyMap<string, 'train' | 'dev' | 'test'>,
  imageDir: string,
  tokenFile: string,
  errors: SampleError[],
): { candidates: Sample[]; namedAt: { file: string; row: number; column: string }[] } {
  const candidates: Sample[] = [];
  const namedAt: { file: string; row: number; column: string }[] = [];
  for (const c of chosen) {
    const id = `flickr8k:${c.name}`;
    const column = c.file === tokenFile ? 'caption_id' : 'image';
    const inside = resolveInside(imageDir, c.name, `the image folder`);
    if (!inside.ok) {
      errors.push({ id, file: c.file, row: c.row, column, reason: inside.reason });
      continue;
    }
    const g = groups.get(c.name);
    if (!g || g.captions.length === 0) {
      errors.push({ id, file: c.file, row: c.row, column, reason: `no captions for ${c.name} in ${tokenFile}` });
      continue;
    }
    const s = splitOf.get(c.name);
    candidates.push({
      id,
      imagePath: inside.path,
      caption: g.captions[0].text,
      captions: g.captions.map((x) => x.text),
      ...(s ? { split: SPLIT_NAME[s] } : {}),
      source: { file: tokenFile, row: g.row },
    });
    namedAt.push({ file: c.file, row: c.row, column });
  }
  return { candidates, namedAt };
}

/**
 * Loads Flickr8k image–caption sets from the release files: each Sample carries all the
 * image's captions (`captions`, in file order) and `caption` = the first of them. Which
 * caption to explain is the caller's choice (NIB lets the model pick one:
 * see chooseCaptions). Samples come in the split file's order (or the token file's for
 * 'all'), and `split` says which split file lists the image ('dev' → 'val').
 */
export async function loadFlickr8k(options: Flickr8kLoadOptions): Promise<LoadResult> {
  const root = resolve(options.root);
  const textDir = resolve(options.textDir ?? root);
  const imageDir = resolve(options.imageDir ?? join(root, FLICKR8K_FILES.images));
  const which = options.split ?? 'dev';
  const verify = options.verifyImages ?? 'exists';
  if (!['train', 'dev', 'test', 'all'].includes(which)) {
    throw new Error(`loadFlickr8k: split must be train, dev, test or all, got "${which}"`);
  }
  const tokenFile = join(textDir, FLICKR8K_FILES.tokens);
  const errors: SampleError[] = [];
  const groups = await readCaptionGroups(tokenFile, errors);
  const { splitOf, chosen } = await readSplitFiles(textDir, which, errors);
  const images = which === 'all' ? [...groups.values()].map((g) => ({ name: g.name, file: tokenFile, row: g.row })) : chosen!;
  const { candidates, namedAt } = captionedCandidates(images, groups, splitOf, imageDir, tokenFile, errors);
  const verdicts = await mapPool(candidates, checkConcurrency(verify), (s) => imageProblem(s.imagePath, verify));
  const samples = keepPassing(candidates, verdicts, errors, (s, reason, i) => ({ id: s.id, ...namedAt[i], reason }));
  return { samples, errors };
}

/** Scores each candidate caption against an image (higher = better match), e.g. CLIP cosine similarity. */
export type CaptionScorer = (image: Sample, captions: readonly string[]) => Promise<readonly number[]> | readonly number[];

export interface ChooseCaptionsOptions {
  /**
   * 'own' (default): each sample's candidates are scored against its own image.
   * 'nib-batch-first': against the FIRST image of its batch of `batchSize` consecutive
   * samples, which is what NIB's generate_attributions.py:78-90 (at d4d1138) does.
   */
  reference?: 'own' | 'nib-batch-first';
  /** Batch size for 'nib-batch-first'; default 32 (NIB's BS). */
  batchSize?: number;
}

/** The index of the sample whose image NIB scores sample i's captions against: the first of its batch. */
export function nibReferenceIndex(i: number, batchSize = 32): number {
  return i - (i % batchSize);
}

/**
 * Sets each sample's `caption` to its best-scoring candidate (`captions`; the first of equal
 * best scores, as torch.argmax). The model lives outside this package: `score` computes the
 * similarities. Returns new samples in the same order; the order matters for
 * 'nib-batch-first'. Throws on a sample without candidates or a score list of the wrong length.
 */
export async function chooseCaptions(
  samples: readonly Sample[],
  score: CaptionScorer,
  options: ChooseCaptionsOptions = {},
): Promise<Sample[]> {
  const reference = options.reference ?? 'own';
  const batchSize = options.batchSize ?? 32;
  if (reference !== 'own' && reference !== 'nib-batch-first') {
    throw new Error(`chooseCaptions: reference must be "own" or "nib-batch-first", got "${reference}"`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`chooseCaptions: batchSize must be a positive integer, got ${batchSize}`);
  const out: Sample[] = [];
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (!s.captions || s.captions.length === 0) throw new Error(`chooseCaptions: sample ${s.id} has no candidate captions`);
    const ref = reference === 'own' ? s : samples[nibReferenceIndex(i, batchSize)];
    const scores = await score(ref, s.captions);
    if (scores.length !== s.captions.length) {
      throw new Error(`chooseCaptions: ${scores.length} scores for the ${s.captions.length} captions of sample ${s.id}`);
    }
    let best = 0;
    for (let k = 0; k < scores.length; k++) {
      if (!Number.isFinite(scores[k])) throw new Error(`chooseCaptions: score ${scores[k]} for caption ${k} of sample ${s.id}`);
      if (scores[k] > scores[best]) best = k;
    }
    out.push({ ...s, caption: s.captions[best] });
  }
  return out;
}

export interface Flickr8kStandInOptions {
  /** The folder to write (it plays the folder both release zips were unpacked into). */
  outDir: string;
  /** Images with a split; default 10. */
  count?: number;
  /** Images in the dev and test split files; default count / 5 each (the release: 1000 each of 8000). */
  devCount?: number;
  testCount?: number;
  seed?: number;
  /** Image side; default 96. */
  size?: number;
}

export interface Flickr8kStandIn {
  root: string;
  images: { name: string; split: 'train' | 'dev' | 'test'; captions: string[] }[];
  /** The caption group with no image and no split, as the release's "2258277193_586949ec62.jpg.1". */
  orphan: string;
}

/**
 * Writes a small stand-in for Flickr8k in the release layout: `Flicker8k_Dataset/<id>_<hex>.jpg`,
 * `Flickr8k.token.txt` ("<image>#<n><TAB><caption>", five per image, sorted by image name,
 * captions ending " ." as the real ones), and `Flickr_8k.{train,dev,test}Images.txt` (one name
 * a line, seeded order). Like the release it also lists captions for an image that does not
 * exist and is in no split (its "….jpg.1"). Images are synthetic scenes; the captions name
 * the scene's captioned shape. Seeded.
 */
export async function generateFlickr8kStandIn(options: Flickr8kStandInOptions): Promise<Flickr8kStandIn> {
  const count = options.count ?? 10;
  const devCount = options.devCount ?? Math.floor(count / 5);
  const testCount = options.testCount ?? Math.floor(count / 5);
  const seed = options.seed ?? 0;
  const size = options.size ?? 96;
  if (!Number.isInteger(count) || count < 1) throw new Error(`flickr8k stand-in: count must be a positive integer, got ${count}`);
  if (devCount + testCount > count) throw new Error(`flickr8k stand-in: devCount + testCount (${devCount + testCount}) > count (${count})`);
  if (!Number.isInteger(size) || size < 64) throw new Error(`flickr8k stand-in: size must be an integer ≥ 64, got ${size}`);

  const root = resolve(options.outDir);
  const rng = new Rng(seed);
  await mkdir(join(root, FLICKR8K_FILES.images), { recursive: true });
  const images: Flickr8kStandIn['images'] = [];
  const hex = () => Array.from({ length: 10 }, () => '0123456789abcdef'[rng.int(16)]).join('');
  const splits = rng.shuffle([
    ...Array.from({ length: devCount }, () => 'dev' as const),
    ...Array.from({ length: testCount }, () => 'test' as const),
    ...Array.from({ length: count - devCount - testCount }, () => 'train' as const),
  ]);
  for (let i = 0; i < count; i++) {
    const name = `${1_000_000_000 + rng.int(1_000_000_000)}_${hex()}.jpg`;
    const { pixels, shapes } = renderSyntheticScene(rng, size);
    const { color, shape } = shapes[0];
    const others = shapes.length - 1;
    const captions = [
      `A ${color} ${shape} on a striped background .`,
      `There is a ${color} ${shape} in this picture .`,
      `${shapes.length} shapes , one of them a ${shape} .`,
      `A ${color} object and ${others} other shape${others === 1 ? '' : 's'} .`,
      `Coloured shapes on grey stripes .`,
    ];
    await sharp(Buffer.from(pixels.buffer), { raw: { width: size, height: size, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(join(root, FLICKR8K_FILES.images, name));
    images.push({ name, split: splits[i], captions });
  }
  const orphan = `${images[0].name}.1`;
  const groups = [...images.map((im) => ({ name: im.name, captions: im.captions })), { name: orphan, captions: images[0].captions }];
  groups.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  await writeFile(
    join(root, FLICKR8K_FILES.tokens),
    groups.flatMap((g) => g.captions.map((c, n) => `${g.name}#${n}\t${c}\n`)).join(''),
  );
  for (const s of ['train', 'dev', 'test'] as const) {
    const names = rng.shuffle(images.filter((im) => im.split === s).map((im) => im.name));
    await writeFile(join(root, FLICKR8K_FILES[s]), names.map((n) => n + '\n').join(''));
  }
  return { root, images, orphan };
}
