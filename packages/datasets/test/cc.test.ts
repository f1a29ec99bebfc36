import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConceptualCaptions, readCcTsv } from '../src/cc';
import { useTempDir, writeImage, writeTruncatedJpeg } from './helpers';

describe('readCcTsv', () => {
  const dir = useTempDir('cc');

  it('reads every row (the first is data, not a header), quoted tabs; any other field count is an error', async () => {
    const tsv = join(dir, 'mixed.tsv');
    await writeFile(
      tsv,
      [
        'a dog on a beach\thttp://img.example/1.jpg', // line 1: must not be lost as a "header"
        '"a sign that reads\tOPEN"\thttp://img.example/2.jpg', // quoted tab inside the caption
        'actor attends\tthe premiere\thttp://img.example/3.jpg', // stray unquoted tab: 3 fields
        'the "best" day\thttp://img.example/4.jpg', // quote inside an unquoted field
        '', // empty line: skipped, but it still counts as a line
        'only a caption', // line 6: no url
        '\thttp://img.example/7.jpg', // line 7: empty caption
        'trailing tab\thttp://img.example/8.jpg\t', // line 8: a trailing empty field is a third field
        'cap\thttp://img.example/9.jpg\tjunk', // line 9: junk is not a path
        'empty url\t ', // line 10
      ].join('\n') + '\n',
    );
    const { rows, errors } = await readCcTsv(tsv);
    expect(rows).toEqual([
      { row: 1, caption: 'a dog on a beach', url: 'http://img.example/1.jpg' },
      { row: 2, caption: 'a sign that reads\tOPEN', url: 'http://img.example/2.jpg' },
      { row: 4, caption: 'the "best" day', url: 'http://img.example/4.jpg' },
    ]);
    expect(errors.map((e) => [e.file, e.row, e.column])).toEqual([
      [tsv, 3, undefined],
      [tsv, 6, undefined],
      [tsv, 7, 'caption'],
      [tsv, 8, undefined],
      [tsv, 9, undefined],
      [tsv, 10, 'url'],
    ]);
    expect(errors[0].reason).toBe(
      'expected 2 tab-separated fields "caption<TAB>url", found 3; quote a caption that contains a tab',
    );
    expect(errors[1].reason).toMatch(/expected 2 tab-separated fields "caption<TAB>url", found 1$/);
    expect(errors[2].reason).toBe('empty caption');
    expect(errors[3].reason).toMatch(/found 3; the last one is empty \(a trailing tab\?\)/);
    expect(errors[4].reason).toMatch(/found 3;/);
    expect(errors[5].reason).toMatch(/empty url/);
  });

  it('numbers a record by the line it starts on when a quoted caption spans lines', async () => {
    const tsv = join(dir, 'multiline.tsv');
    await writeFile(tsv, 'one\thttp://x/1\n"two\nlines"\thttp://x/2\nthree\thttp://x/3\n');
    const { rows } = await readCcTsv(tsv);
    expect(rows.map((r) => r.row)).toEqual([1, 2, 4]);
  });

  it('samples with a seed: deterministic, the requested size, larger limits contain smaller ones', async () => {
    const tsv = join(dir, 'many.tsv');
    await writeFile(tsv, Array.from({ length: 200 }, (_, i) => `caption ${i + 1}\thttp://x/${i + 1}.jpg\n`).join(''));
    const a = await readCcTsv(tsv, { limit: 20, seed: 5 });
    const b = await readCcTsv(tsv, { limit: 20, seed: 5 });
    const c = await readCcTsv(tsv, { limit: 20, seed: 6 });
    const big = await readCcTsv(tsv, { limit: 50, seed: 5 });
    expect(a.rows).toHaveLength(20);
    expect(a.rows).toEqual(b.rows);
    expect(a.rows.map((r) => r.row)).not.toEqual(c.rows.map((r) => r.row));
    const bigRows = new Set(big.rows.map((r) => r.row));
    for (const r of a.rows) expect(bigRows.has(r.row)).toBe(true);
    // Each row keeps its own caption: the row number of "caption k" is k.
    for (const r of a.rows) expect(r.caption).toBe(`caption ${r.row}`);
    // Not just the first 20 rows.
    expect(Math.max(...a.rows.map((r) => r.row))).toBeGreaterThan(20);
    expect((await readCcTsv(tsv, { limit: 500, seed: 5 })).rows).toHaveLength(200);
  });

  it('throws naming the file when the TSV is missing', async () => {
    await expect(readCcTsv(join(dir, 'absent.tsv'))).rejects.toThrow(/absent\.tsv/);
  });
});

describe('loadConceptualCaptions', () => {
  const dir = useTempDir('ccload');

  it('resolves cached URLs and local paths inside the local root; records what it cannot use', async () => {
    const cache = join(dir, 'cache');
    const cachedUrl = 'http://img.example/cached.jpg';
    const sha1 = createHash('sha1').update(cachedUrl).digest('hex');
    const set = join(dir, 'set');
    await writeImage(join(cache, `${sha1}.jpg`), 40, 30, 'jpeg');
    await writeImage(join(set, 'imgs', 'rel.png'), 20, 10);
    await writeImage(join(dir, 'outside.png'), 12, 12);
    await writeTruncatedJpeg(join(set, 'imgs', 'broken.jpg'));
    const tsv = join(set, 'set.tsv');
    await writeFile(
      tsv,
      [
        `cached caption\t${cachedUrl}`,
        'relative caption\timgs/rel.png',
        `file url caption\t${pathToFileURL(join(set, 'imgs', 'rel.png')).href}`,
        'uncached caption\thttp://img.example/never.jpg',
        'missing local\timgs/gone.png',
        'broken image\timgs/broken.jpg',
        'odd scheme\tftp://img.example/x.jpg',
        'climbs out\t../outside.png',
        `absolute path\t${join(set, 'imgs', 'rel.png')}`,
        'dot-dot that stays inside\timgs/../imgs/rel.png',
      ].join('\n'),
    );
    const { samples, errors } = await loadConceptualCaptions({ tsv, cacheDir: cache });
    expect(samples.map((s) => [s.caption, s.imagePath, s.source.row])).toEqual([
      ['cached caption', join(cache, `${sha1}.jpg`), 1],
      ['relative caption', join(set, 'imgs', 'rel.png'), 2],
      // Without decoding, a broken file is still a sample: the bench checks it lazily.
      ['broken image', join(set, 'imgs', 'broken.jpg'), 6],
      ['dot-dot that stays inside', join(set, 'imgs', 'rel.png'), 10],
    ]);
    expect(new Set(samples.map((s) => s.id)).size).toBe(4);
    expect(errors.map((e) => [e.file, e.row, e.column])).toEqual([
      [tsv, 3, 'url'],
      [tsv, 4, 'url'],
      [tsv, 5, 'url'],
      [tsv, 7, 'url'],
      [tsv, 8, 'url'],
      [tsv, 9, 'url'],
    ]);
    const reasons = errors.map((e) => e.reason);
    expect(reasons[0]).toMatch(/^file:\/\/ URLs are not allowed \(file:\/\/.*rel\.png\): give the image as a path relative to the local root/);
    expect(reasons[1]).toMatch(/not in cache: http:\/\/img\.example\/never\.jpg .*fetch-cc/);
    expect(reasons[2]).toMatch(/image not found: .*gone\.png/);
    expect(reasons[3]).toMatch(/unsupported URL scheme/);
    expect(reasons[4]).toBe(`path "../outside.png" resolves to ${join(dir, 'outside.png')}, outside the local root (${set})`);
    expect(reasons[5]).toMatch(/^absolute path ".*rel\.png" is not allowed: expected a path relative to the local root/);

    const decoded = await loadConceptualCaptions({ tsv, cacheDir: cache, verifyImages: 'decode' });
    expect(decoded.samples).toHaveLength(3);
    expect(decoded.errors.find((e) => e.row === 6)?.reason).toMatch(/cannot decode image/);
  });

  it('localRoot moves the folder local paths resolve against (and must stay inside)', async () => {
    const root = join(dir, 'images-root');
    await writeImage(join(root, 'a.png'), 8, 8);
    const tsv = join(dir, 'elsewhere', 'x.tsv');
    await writeImage(join(dir, 'elsewhere', 'b.png'), 8, 8);
    await writeFile(tsv, 'in the root\ta.png\nnext to the tsv\tb.png\n');
    const byDefault = await loadConceptualCaptions({ tsv });
    expect(byDefault.samples.map((s) => s.caption)).toEqual(['next to the tsv']);
    expect(byDefault.errors[0]).toMatchObject({ row: 1, column: 'url' });
    const moved = await loadConceptualCaptions({ tsv, localRoot: root });
    expect(moved.samples.map((s) => [s.caption, s.imagePath])).toEqual([['in the root', join(root, 'a.png')]]);
    expect(moved.errors[0]).toMatchObject({ row: 2, column: 'url' });
    expect(moved.errors[0].reason).toMatch(/image not found: .*images-root\/b\.png/);
  });
});
