import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { SYNTHETIC_COLORS } from '../src/synthetic';
import { generateTinyImageNetStandIn, loadTinyImageNet, tinyImageNetCaption, type TinyImageNetStandIn } from '../src/tiny-imagenet';
import { copyTree, expectReasons, useTempDir, writeImage, writeTruncatedJpeg } from './helpers';

describe('Tiny-ImageNet validation (NIB layout and selection)', () => {
  const dir = useTempDir('tin');
  let set: TinyImageNetStandIn;
  beforeAll(async () => {
    // 3 classes × 12 images: names val_0 … val_35, so sorted order (val_1, val_10, val_11, …) is not numeric order.
    set = await generateTinyImageNetStandIn({ outDir: join(dir, 'tiny-imagenet-200'), classes: 3, imagesPerClass: 12, seed: 4 });
  });
  /** A copy of the stand-in whose val_annotations.txt (or another file) the test may edit. */
  const copy = (name: string) => copyTree(set.root, join(dir, name));

  it('writes the release layout', async () => {
    const wnids = (await readFile(join(set.root, 'wnids.txt'), 'utf8')).trim().split('\n');
    expect(wnids).toEqual(set.classes.map((c) => c.wnid));
    const words = (await readFile(join(set.root, 'words.txt'), 'utf8')).trim().split('\n');
    expect(words).toContain('n00001740\tentity');
    expect(words).toContain(`${set.classes[0].wnid}\t${set.classes[0].names}`);
    const ann = (await readFile(join(set.root, 'val', 'val_annotations.txt'), 'utf8')).trim().split('\n');
    expect(ann).toHaveLength(36);
    expect(ann[0]).toMatch(/^val_0\.JPEG\tn\d{8}\t\d+\t\d+\t\d+\t\d+$/);
    const meta = await sharp(join(set.root, 'val', 'images', 'val_0.JPEG')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 64, 64]);
  });

  it('takes 5 images per class in sorted file order, classes in wnids.txt order, with NIB\'s caption', async () => {
    const { samples, errors, classes } = await loadTinyImageNet({ root: set.root });
    expect(errors).toEqual([]);
    expect(samples).toHaveLength(15);
    expect(classes.map((c) => c.wnid)).toEqual(set.classes.map((c) => c.wnid));
    for (const [k, cls] of set.classes.entries()) {
      const mine = samples.slice(5 * k, 5 * k + 5);
      const expected = set.images
        .filter((im) => im.wnid === cls.wnid)
        .map((im) => im.file)
        .sort()
        .slice(0, 5);
      expect(mine.map((s) => s.id)).toEqual(expected.map((f) => `tiny-imagenet:${f}`));
      for (const s of mine) {
        expect(s.category).toBe(cls.wnid);
        expect(s.caption).toBe(`a photo of a ${cls.names}`);
        expect(s.imagePath).toBe(join(set.root, 'val', 'images', s.id.slice('tiny-imagenet:'.length)));
        expect(s.imageSize).toEqual({ width: 64, height: 64 });
        expect(s.source.file).toBe(join(set.root, 'val', 'val_annotations.txt'));
        expect(s.source.row).toBe(Number(/val_(\d+)/.exec(s.id)![1]) + 1);
      }
    }
    // Sorted means string order: in a class holding val_2 and val_10, val_10 comes first.
    const names = samples.map((s) => s.id);
    for (let k = 0; k < 3; k++) {
      const cls = names.slice(5 * k, 5 * k + 5);
      expect(cls).toEqual([...cls].sort());
    }
    expect(set.images.filter((im) => im.wnid === set.classes[0].wnid).length).toBe(12);
  });

  it('turns x0 y0 x1 y1 (inclusive) into {x, y, w, h} that frame the class shape', async () => {
    const { samples } = await loadTinyImageNet({ root: set.root, perClass: 12 });
    expect(samples).toHaveLength(36);
    const ann = (await readFile(join(set.root, 'val', 'val_annotations.txt'), 'utf8')).trim().split('\n');
    for (const s of samples) {
      const file = s.id.slice('tiny-imagenet:'.length);
      const [, , x0, y0, x1, y1] = ann.find((l) => l.startsWith(file + '\t'))!.split('\t').map(Number);
      expect(s.boxes).toEqual([{ x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 }]);
      expect(s.boxes).toEqual([set.images.find((im) => im.file === file)!.box]);
      // The centre of the box is the class colour (JPEG: nearly).
      const cls = set.classes.find((c) => c.wnid === s.category)!;
      const { data } = await sharp(s.imagePath).raw().toBuffer({ resolveWithObject: true });
      const b = s.boxes![0];
      const o = ((b.y + Math.floor(b.h / 2)) * 64 + b.x + Math.floor(b.w / 2)) * 3;
      const rgb = SYNTHETIC_COLORS[cls.color];
      for (let c = 0; c < 3; c++) expect(Math.abs(data[o + c] - rgb[c]), `${s.id} channel ${c}`).toBeLessThan(40);
    }
  });

  it("caption 'first-name' keeps only the entry's first name", async () => {
    const { samples } = await loadTinyImageNet({ root: set.root, caption: 'first-name', perClass: 1 });
    expect(samples.map((s) => s.caption)).toEqual(set.classes.map((c) => `a photo of a ${c.color} ${c.shape}`));
    expect(tinyImageNetCaption('goldfish, Carassius auratus')).toBe('a photo of a goldfish, Carassius auratus');
    expect(tinyImageNetCaption('goldfish, Carassius auratus', 'first-name')).toBe('a photo of a goldfish');
    // NIB writes "a", never "an".
    expect(tinyImageNetCaption('academic gown, academic robe', 'first-name')).toBe('a photo of a academic gown');
    await expect(loadTinyImageNet({ root: set.root, caption: 'short' as never })).rejects.toThrow(/caption must be "full" or "first-name"/);
    await expect(loadTinyImageNet({ root: set.root, perClass: 0 })).rejects.toThrow(/perClass must be a positive integer/);
  });

  it('records every bad annotation row with file, row, column and what was expected', async () => {
    const root = await copy('bad-rows');
    const annFile = join(root, 'val', 'val_annotations.txt');
    const lines = (await readFile(annFile, 'utf8')).trim().split('\n');
    const w = set.classes[0].wnid;
    const edits: [number, string][] = [
      [0, `val_0.JPEG\t${w}\t1\t2\t3`], // row 1: 5 fields
      [1, `val_1.JPEG\tn99999999\t1\t2\t3\t4`], // row 2: unknown class
      [2, `val_2.JPEG\t${w}\t1\t2\tthree\t4`], // row 3
      [3, `val_3.JPEG\t${w}\t-1\t2\t3\t4`], // row 4
      [4, `val_4.JPEG\t${w}\t1\t-2\t3\t4`], // row 5
      [5, `val_5.JPEG\t${w}\t5\t2\t4\t4`], // row 6: x1 < x0
      [6, `val_6.JPEG\t${w}\t1\t5\t3\t4`], // row 7: y1 < y0
      [7, `val_7.JPEG\t${w}\t1\t2\t64\t4`], // row 8: x1 = 64 in a 64-wide image
      [8, `val_8.JPEG\t${w}\t1\t2\t3\t64`], // row 9
      [9, `../val_9.JPEG\t${w}\t1\t2\t3\t4`], // row 10: escape
      [10, `/etc/val_10.JPEG\t${w}\t1\t2\t3\t4`], // row 11: absolute
      [11, `sub/val_11.JPEG\t${w}\t1\t2\t3\t4`], // row 12: not a plain name
    ];
    for (const [i, l] of edits) lines[i] = l;
    lines.push(lines[20]); // row 37: the same row again
    lines.push(lines[21].replace(/\t\d+$/, '\t63')); // row 38: val_21 again with another box
    lines.push(`val_99.JPEG\t${w}\t0\t0\t63\t63`); // row 39: no such image
    await writeFile(annFile, lines.join('\n') + '\n');
    await writeImage(join(root, 'val', 'images', 'val_extra.JPEG'), 64, 64, 'jpeg'); // no row
    const { samples, errors } = await loadTinyImageNet({ root, perClass: 12 });
    const fmt = errors.map((e) => [e.file === annFile ? 'ann' : e.file, e.row, e.column, e.severity ?? 'error']);
    expect(fmt).toEqual([
      ['ann', 1, undefined, 'error'],
      ['ann', 2, 'wnid', 'error'],
      ['ann', 3, 'x1', 'error'],
      ['ann', 4, 'x0', 'error'],
      ['ann', 5, 'y0', 'error'],
      ['ann', 6, 'x1', 'error'],
      ['ann', 7, 'y1', 'error'],
      ['ann', 8, 'x1', 'error'],
      ['ann', 9, 'y1', 'error'],
      ['ann', 10, 'file', 'error'],
      ['ann', 11, 'file', 'error'],
      ['ann', 12, 'file', 'error'],
      ['ann', 37, undefined, 'warning'],
      ['ann', 38, 'file', 'error'],
      // Images no row names any more (rows 10-12 named other paths), and one that never had a row.
      ...['val_10', 'val_11', 'val_9', 'val_extra'].map((n) => [join(root, 'val', 'images', `${n}.JPEG`), undefined, undefined, 'error']),
      ['ann', 39, 'file', 'error'],
      // The classes that lost rows now have fewer than 12 images.
      ...set.classes
        .map((c, k) => ({ c, k }))
        .filter(({ c }) => samples.filter((s) => s.category === c.wnid).length < 12)
        .map(({ k }) => [join(root, 'wnids.txt'), k + 1, 'wnid', 'warning']),
    ]);
    expectReasons(errors, {
      0: 'expected 6 tab-separated fields "file<TAB>wnid<TAB>x0<TAB>y0<TAB>x1<TAB>y1", found 5',
      1: '"n99999999" is not a class of wnids.txt',
      2: 'expected an integer pixel coordinate, found "three"',
      3: "expected x0 ≥ 0 (the box's left edge inside the image), found -1",
      4: "expected y0 ≥ 0 (the box's top edge inside the image), found -2",
      5: 'empty box: x1 = 4 is left of x0 = 5 (x1 is inclusive: expected x1 ≥ x0)',
      6: 'empty box: y1 = 4 is above y0 = 5 (y1 is inclusive: expected y1 ≥ y0)',
      7: "box ends past the image's right edge: x1 = 64 (inclusive), image width 64 (expected x1 ≤ 63)",
      8: "box ends past the image's bottom edge: y1 = 64 (inclusive), image height 64 (expected y1 ≤ 63)",
      9: `path "../val_9.JPEG" resolves to ${join(root, 'val', 'val_9.JPEG')}, outside val/images (${join(root, 'val', 'images')})`,
      10: /^absolute path "\/etc\/val_10\.JPEG" is not allowed/,
      11: 'expected a file name in val/images, found the path "sub/val_11.JPEG"',
      12: 'duplicate of row 21; kept once',
      13: /^val_21\.JPEG is already annotated on row 22 \(.*\); this row is left out$/,
      17: /^no row for this image in .*val_annotations\.txt; it is not used$/,
      18: `image not found: ${join(root, 'val', 'images', 'val_99.JPEG')}`,
      19: /^class n\d{8} \(".*"\) has \d+ usable validation images; 12 wanted$/,
    });
    // Kept once, and val_21 keeps its first box.
    expect(samples.filter((s) => s.id === 'tiny-imagenet:val_20.JPEG')).toHaveLength(1);
    expect(samples.find((s) => s.id === 'tiny-imagenet:val_21.JPEG')!.boxes).toEqual([set.images[21].box]);
    expect(samples).toHaveLength(36 - 12);
  });

  it('skips a missing or broken image and takes the next one of its class', async () => {
    const root = await copy('broken');
    const cls = set.classes[1].wnid;
    const files = set.images.filter((im) => im.wnid === cls).map((im) => im.file).sort();
    await rm(join(root, 'val', 'images', files[0]));
    await writeTruncatedJpeg(join(root, 'val', 'images', files[1]), 64, 64);
    const quick = await loadTinyImageNet({ root });
    expect(quick.samples.filter((s) => s.category === cls).map((s) => s.id)).toEqual(files.slice(1, 6).map((f) => `tiny-imagenet:${f}`));
    expect(quick.errors).toEqual([expect.objectContaining({ row: Number(files[0].match(/\d+/)![0]) + 1, column: 'file', reason: expect.stringMatching(/image not found/) })]);
    const full = await loadTinyImageNet({ root, verifyImages: 'decode' });
    expect(full.samples.filter((s) => s.category === cls).map((s) => s.id)).toEqual(files.slice(2, 7).map((f) => `tiny-imagenet:${f}`));
    expect(full.errors.map((e) => e.reason)).toEqual([expect.stringMatching(/image not found/), expect.stringMatching(/cannot decode image/)]);
    expect(full.samples).toHaveLength(15);
  });

  it('checks wnids.txt and words.txt, and says when a class has too few images', async () => {
    const root = await copy('lists');
    const [a, b, c] = set.classes.map((x) => x.wnid);
    await writeFile(join(root, 'wnids.txt'), `${a}\n${b}\n${a}\nnot-a-wnid\n${c}\n`);
    const words =
      (await readFile(join(root, 'words.txt'), 'utf8'))
        .split('\n')
        .filter((l) => !l.startsWith(c))
        .join('\n') + `${a}\tsecond entry\nbroken line without a tab\n`;
    await writeFile(join(root, 'words.txt'), words);
    const { samples, errors, classes } = await loadTinyImageNet({ root, perClass: 13 });
    expect(classes.map((x) => x.wnid)).toEqual([a, b]);
    expect(errors.map((e) => [e.file.replace(root, ''), e.row, e.column, e.severity ?? 'error'])).toEqual([
      ['/wnids.txt', 3, 'wnid', 'warning'],
      ['/wnids.txt', 4, 'wnid', 'error'],
      ['/words.txt', 6, 'wnid', 'warning'],
      ['/words.txt', 7, undefined, 'error'],
      ['/words.txt', undefined, 'wnid', 'error'],
      ['/wnids.txt', 1, 'wnid', 'warning'],
      ['/wnids.txt', 2, 'wnid', 'warning'],
    ]);
    expectReasons(errors, [
      `${a} is listed again (first on row 1); kept once`,
      'expected a WordNet id (n + 8 digits), found "not-a-wnid"',
      `${a} has a second entry ("second entry"; the first, row ${words.split('\n').findIndex((l) => l.startsWith(a)) + 1}, is used)`,
      'expected 2 tab-separated fields "wnid<TAB>names", found 1',
      `no entry for ${c} (wnids.txt row 5): its images are left out`,
    ]);
    expect(errors.at(-1)?.reason).toMatch(new RegExp(`^class ${b} \\(".*"\\) has 12 usable validation images; 13 wanted$`));
    expect(samples).toHaveLength(24);
  });

  it('throws naming the file when a release file is missing', async () => {
    await expect(loadTinyImageNet({ root: join(dir, 'nowhere') })).rejects.toThrow(/Tiny-ImageNet wnids\.txt not found: .*nowhere\/wnids\.txt/);
    const root = await copy('no-images');
    await rm(join(root, 'val', 'images'), { recursive: true });
    await expect(loadTinyImageNet({ root })).rejects.toThrow(/image folder not found: .*val\/images/);
    expect((await loadTinyImageNet({ root, verifyImages: 'none' })).samples).toHaveLength(15);
  });
});
