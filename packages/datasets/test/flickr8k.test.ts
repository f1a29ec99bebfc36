import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseCaptions, generateFlickr8kStandIn, loadFlickr8k, nibReferenceIndex, type Flickr8kStandIn } from '../src/flickr8k';
import type { Sample } from '../src/types';
import { copyTree, expectReasons, useTempDir, writeTruncatedJpeg } from './helpers';

describe('Flickr8k (release layout, candidate captions)', () => {
  const dir = useTempDir('flickr');
  let set: Flickr8kStandIn;
  beforeAll(async () => {
    set = await generateFlickr8kStandIn({ outDir: join(dir, 'flickr8k'), count: 15, seed: 3 });
  });
  const copy = (name: string) => copyTree(set.root, join(dir, name));

  it('writes the release layout, quirks included', async () => {
    const token = (await readFile(join(set.root, 'Flickr8k.token.txt'), 'utf8')).trim().split('\n');
    expect(token).toHaveLength(16 * 5); // 15 images and the orphan group
    expect(token[0]).toMatch(/^\d{10}_[0-9a-f]{10}\.jpg#0\t.+ \.$/);
    expect(token.filter((l) => l.startsWith(`${set.orphan}#`))).toHaveLength(5);
    const dev = (await readFile(join(set.root, 'Flickr_8k.devImages.txt'), 'utf8')).trim().split('\n');
    const test = (await readFile(join(set.root, 'Flickr_8k.testImages.txt'), 'utf8')).trim().split('\n');
    const train = (await readFile(join(set.root, 'Flickr_8k.trainImages.txt'), 'utf8')).trim().split('\n');
    expect([train.length, dev.length, test.length]).toEqual([9, 3, 3]);
    const meta = await sharp(join(set.root, 'Flicker8k_Dataset', dev[0])).metadata();
    expect(meta.format).toBe('jpeg');
  });

  it('loads the dev split by default: all five captions in file order, the first in use', async () => {
    const { samples, errors } = await loadFlickr8k({ root: set.root });
    expect(errors).toEqual([]);
    const dev = (await readFile(join(set.root, 'Flickr_8k.devImages.txt'), 'utf8')).trim().split('\n');
    expect(samples.map((s) => s.id)).toEqual(dev.map((n) => `flickr8k:${n}`)); // split-file order
    const tokenFile = join(set.root, 'Flickr8k.token.txt');
    const token = (await readFile(tokenFile, 'utf8')).trim().split('\n');
    for (const s of samples) {
      const name = s.id.slice('flickr8k:'.length);
      expect(s.captions).toEqual(set.images.find((im) => im.name === name)!.captions);
      expect(s.captions).toHaveLength(5);
      expect(s.caption).toBe(s.captions![0]);
      expect(s.imagePath).toBe(join(set.root, 'Flicker8k_Dataset', name));
      expect(s.split).toBe('val');
      expect(s.source).toEqual({ file: tokenFile, row: token.findIndex((l) => l.startsWith(`${name}#0\t`)) + 1 });
    }
    const test = await loadFlickr8k({ root: set.root, split: 'test', verifyImages: 'decode' });
    expect(test.errors).toEqual([]);
    expect(test.samples.map((s) => s.split)).toEqual(['test', 'test', 'test']);
    expect((await loadFlickr8k({ root: set.root, split: 'train' })).samples).toHaveLength(9);
  });

  it("'all' reads every caption group of the token file, and the release's orphan group is an error", async () => {
    const { samples, errors } = await loadFlickr8k({ root: set.root, split: 'all' });
    expect(samples).toHaveLength(15);
    const names = samples.map((s) => s.id.slice('flickr8k:'.length));
    expect(names).toEqual([...names].sort()); // the token file's order
    expect(new Set(samples.map((s) => s.split))).toEqual(new Set(['train', 'val', 'test']));
    expect(errors).toEqual([
      {
        id: `flickr8k:${set.orphan}`,
        file: join(set.root, 'Flickr8k.token.txt'),
        row: expect.any(Number),
        column: 'caption_id',
        reason: `image not found: ${join(set.root, 'Flicker8k_Dataset', set.orphan)}`,
      },
    ]);
  });

  it('keeps captions in file order even when the caption numbers are not', async () => {
    const root = await copy('reordered');
    const tokenFile = join(root, 'Flickr8k.token.txt');
    const lines = (await readFile(tokenFile, 'utf8')).trim().split('\n');
    [lines[0], lines[1]] = [lines[1], lines[0]]; // #1 before #0
    await writeFile(tokenFile, lines.join('\n') + '\n');
    const name = lines[0].split('#')[0];
    const { samples } = await loadFlickr8k({ root, split: 'all' });
    const s = samples.find((x) => x.id === `flickr8k:${name}`)!;
    expect(s.captions).toEqual([lines[0], lines[1], lines[2], lines[3], lines[4]].map((l) => l.split('\t')[1]));
    expect(s.source.row).toBe(1);
  });

  it('records bad token rows, bad split rows and missing images with file, row and column', async () => {
    const root = await copy('bad');
    const tokenFile = join(root, 'Flickr8k.token.txt');
    const devFile = join(root, 'Flickr_8k.devImages.txt');
    const lines = (await readFile(tokenFile, 'utf8')).trim().split('\n');
    const dev = (await readFile(devFile, 'utf8')).trim().split('\n');
    const groupOf = (n: string) => lines.filter((l) => l.startsWith(`${n}#`));
    const firstDev = groupOf(dev[0]);
    lines.push('no tab on this line'); // 81
    lines.push(`${dev[0]}#9\tone\ttwo`); // 82: three fields
    lines.push(`${dev[0]}\ta caption without a number`); // 83
    lines.push(`${dev[0]}#7\t   `); // 84: empty caption
    lines.push(firstDev[2]); // 85: the same row again
    lines.push(firstDev[3].replace(/\t.*/, '\tanother caption for the same number')); // 86
    await writeFile(tokenFile, lines.join('\n') + '\n');
    await writeFile(
      devFile,
      [...dev, dev[1], '../escape.jpg', '/abs/img.jpg', 'never-captioned.jpg', set.orphan].join('\n') + '\n',
    );
    await rm(join(root, 'Flicker8k_Dataset', dev[2]));
    const { samples, errors } = await loadFlickr8k({ root });
    expect(samples.map((s) => s.id)).toEqual([`flickr8k:${dev[0]}`, `flickr8k:${dev[1]}`]);
    expect(samples[0].captions).toEqual(firstDev.map((l) => l.split('\t')[1])); // duplicates kept once
    const at = (f: string) => (f === tokenFile ? 'token' : f === devFile ? 'dev' : f);
    expect(errors.map((e) => [at(e.file), e.row, e.column, e.severity ?? 'error'])).toEqual([
      ['token', 81, undefined, 'error'],
      ['token', 82, undefined, 'error'],
      ['token', 83, 'caption_id', 'error'],
      ['token', 84, 'caption', 'error'],
      ['token', 85, undefined, 'warning'],
      ['token', 86, 'caption_id', 'error'],
      ['dev', 4, undefined, 'warning'],
      ['dev', 5, 'image', 'error'],
      ['dev', 6, 'image', 'error'],
      ['dev', 7, 'image', 'error'],
      ['dev', 3, 'image', 'error'], // the removed image, found missing after the list was read
      ['dev', 8, 'image', 'error'],
    ]);
    expectReasons(errors, [
      'expected 2 tab-separated fields "image#n<TAB>caption", found 1',
      'expected 2 tab-separated fields "image#n<TAB>caption", found 3',
      `expected "<image file>#<caption number>", found "${dev[0]}"`,
      'empty caption',
      /^duplicate of row \d+ \(.*#2\); kept once$/,
      /#3 is already on row \d+ with another caption; this row is left out$/,
      `${dev[1]} is listed again (first on row 2); kept once`,
      `path "../escape.jpg" resolves to ${join(root, 'escape.jpg')}, outside the image folder (${join(root, 'Flicker8k_Dataset')})`,
      /^absolute path "\/abs\/img\.jpg" is not allowed/,
      `no captions for never-captioned.jpg in ${tokenFile}`,
      `image not found: ${join(root, 'Flicker8k_Dataset', dev[2])}`,
      /^image not found: .*\.jpg\.1$/,
    ]);
  });

  it('decodes images when asked, and throws naming a missing release file', async () => {
    const root = await copy('decode');
    const dev = (await readFile(join(root, 'Flickr_8k.devImages.txt'), 'utf8')).trim().split('\n');
    await writeTruncatedJpeg(join(root, 'Flicker8k_Dataset', dev[1]));
    const full = await loadFlickr8k({ root, verifyImages: 'decode' });
    expect(full.samples).toHaveLength(2);
    expect(full.errors).toEqual([expect.objectContaining({ row: 2, column: 'image', reason: expect.stringMatching(/cannot decode image/) })]);
    await expect(loadFlickr8k({ root: join(dir, 'nowhere') })).rejects.toThrow(/Flickr8k caption file not found: .*nowhere\/Flickr8k\.token\.txt/);
    await rm(join(root, 'Flickr_8k.testImages.txt'));
    await expect(loadFlickr8k({ root, split: 'test' })).rejects.toThrow(/split file not found: .*Flickr_8k\.testImages\.txt/);
    expect((await loadFlickr8k({ root })).samples).toHaveLength(3); // the other splits do not need it
    await expect(loadFlickr8k({ root, split: 'val' as never })).rejects.toThrow(/split must be train, dev, test or all/);
  });

  it('textDir and imageDir find the two zips unpacked apart', async () => {
    const root = await copy('apart');
    const textDir = join(dir, 'apart-text');
    await cp(root, textDir, { recursive: true, filter: (src) => !src.includes('Flicker8k_Dataset') });
    await rm(join(root, 'Flickr8k.token.txt'));
    const { samples, errors } = await loadFlickr8k({ root: join(dir, 'somewhere'), textDir, imageDir: join(root, 'Flicker8k_Dataset') });
    expect(errors).toEqual([]);
    expect(samples).toHaveLength(3);
  });
});

describe('chooseCaptions', () => {
  const mk = (i: number): Sample => ({
    id: `s${i}`,
    imagePath: `/img/${i}.jpg`,
    caption: `c${i}-0`,
    captions: [0, 1, 2, 3, 4].map((k) => `c${i}-${k}`),
    source: { file: 't', row: i + 1 },
  });
  // A scorer that prefers caption (image index mod 5) for image i, so which image it sees shows.
  const score = (image: Sample, captions: readonly string[]) => {
    const i = Number(image.id.slice(1));
    return captions.map((_, k) => (k === i % 5 ? 1 : 0));
  };

  it("'own' scores each sample's captions against its own image", async () => {
    const samples = Array.from({ length: 12 }, (_, i) => mk(i));
    const out = await chooseCaptions(samples, score);
    expect(out.map((s) => s.caption)).toEqual(samples.map((s, i) => `c${i}-${i % 5}`));
    expect(out[3].captions).toEqual(samples[3].captions);
    expect(samples[3].caption).toBe('c3-0'); // the input is not changed
  });

  it("'nib-batch-first' scores them against the first image of each batch of 32, as NIB does", async () => {
    const samples = Array.from({ length: 70 }, (_, i) => mk(i));
    const seen: string[] = [];
    const out = await chooseCaptions(
      samples,
      (image, captions) => {
        seen.push(image.id);
        return score(image, captions);
      },
      { reference: 'nib-batch-first' },
    );
    // Batches 0–31, 32–63, 64–69: references s0, s32, s64.
    expect(seen).toEqual(samples.map((_, i) => `s${i < 32 ? 0 : i < 64 ? 32 : 64}`));
    expect(out.map((s) => s.caption)).toEqual(samples.map((_, i) => `c${i}-${(i < 32 ? 0 : i < 64 ? 32 : 64) % 5}`));
    expect([0, 1, 31, 32, 33, 63, 64, 69].map((i) => nibReferenceIndex(i))).toEqual([0, 0, 0, 32, 32, 32, 64, 64]);
    expect(nibReferenceIndex(5, 4)).toBe(4);
    const small = await chooseCaptions(samples.slice(0, 6), score, { reference: 'nib-batch-first', batchSize: 4 });
    expect(small.map((s) => s.caption)).toEqual(['c0-0', 'c1-0', 'c2-0', 'c3-0', 'c4-4', 'c5-4']);
  });

  it('takes the first of equal best scores (torch.argmax) and refuses bad input', async () => {
    const [s] = [mk(0)];
    expect((await chooseCaptions([s], () => [0.2, 0.9, 0.9, 0.1, 0.9]))[0].caption).toBe('c0-1');
    expect((await chooseCaptions([s], async () => [0.5, 0.5, 0.5, 0.5, 0.5]))[0].caption).toBe('c0-0');
    await expect(chooseCaptions([s], () => [1, 2])).rejects.toThrow(/2 scores for the 5 captions of sample s0/);
    await expect(chooseCaptions([s], () => [1, NaN, 0, 0, 0])).rejects.toThrow(/score NaN for caption 1 of sample s0/);
    await expect(chooseCaptions([{ ...s, captions: undefined }], () => [])).rejects.toThrow(/sample s0 has no candidate captions/);
    await expect(chooseCaptions([s], () => [0], { batchSize: 0, reference: 'nib-batch-first' })).rejects.toThrow(/batchSize/);
  });
});
