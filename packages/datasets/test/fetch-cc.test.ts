import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConceptualCaptions } from '../src/cc';
import { createDataCommand } from '../src/cli';
import { fetchCc } from '../src/fetch-cc';
import { imageBuffer, tempDir, writeImage } from './helpers';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

describe('fetch-cc against a local server', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: Server;
  let base: string;
  const hits = new Map<string, number>();
  let png: Buffer;
  let jpg: Buffer;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('fetch'));
    png = await imageBuffer(32, 24, 'png');
    jpg = await imageBuffer(50, 70, 'jpeg');
    server = createServer((req, res) => {
      const path = req.url ?? '';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      if (path === '/ok.png') {
        // A wrong content type on purpose: the extension comes from the bytes.
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(png);
      } else if (path === '/photo.jpg') {
        res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpg);
      } else if (path === '/flaky.png') {
        // 503 on the first request, then the image: a retry must succeed.
        if (hits.get(path) === 1) res.writeHead(503).end('busy');
        else res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      } else if (path === '/page.jpg') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>This image has been removed</html>');
      } else if (path.startsWith('/img/')) {
        res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      } else if (path === '/loop.jpg') {
        res.writeHead(302, { location: '/loop.jpg' }).end();
      } else if (path === '/slow.jpg') {
        // Never answers: only the client's timeout ends this.
      } else {
        res.writeHead(404).end('not found');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await cleanup();
  });

  it('fetches, records failures with reasons, and on a re-run fetches only what is missing', async () => {
    await writeImage(join(dir, 'local.png'), 8, 8);
    const tsv = join(dir, 'cc.tsv');
    const urls = {
      ok: `${base}/ok.png`,
      photo: `${base}/photo.jpg`,
      flaky: `${base}/flaky.png`,
      missing: `${base}/missing.jpg`,
      page: `${base}/page.jpg`,
      slow: `${base}/slow.jpg`,
    };
    await writeFile(
      tsv,
      [
        `a png\t${urls.ok}`,
        `a photo\t${urls.photo}`,
        `"a flaky\tserver"\t${urls.flaky}`,
        `a dead link\t${urls.missing}`,
        `an html page\t${urls.page}`,
        `a slow server\t${urls.slow}`,
        `a local file\tlocal.png`,
        `the same png again\t${urls.ok}`,
      ].join('\n') + '\n',
    );
    const out = join(dir, 'cache');
    const opts = { tsv, out, concurrency: 3, timeoutMs: 200, retries: 1, backoffMs: 10, progress: false };

    const first = await fetchCc(opts);
    expect(first).toMatchObject({ rows: 8, remote: 6, local: 1, invalid: 0, alreadyCached: 0, fetched: 3, failed: 3, rowErrors: 0 });
    const files = (await readdir(out)).sort();
    expect(files).toEqual(
      [`${sha1(urls.ok)}.png`, `${sha1(urls.photo)}.jpg`, `${sha1(urls.flaky)}.png`, 'failures.jsonl', 'manifest.jsonl', 'skipped.jsonl'].sort(),
    );
    // Every row it did not download is listed, with why.
    expect(first.skipped.map((x) => [x.row, x.kind])).toEqual([
      [7, 'local'],
      [8, 'duplicate'],
    ]);
    expect(first.skipped[0].reason).toBe(`local path, nothing to fetch (${join(dir, 'local.png')})`);
    expect(first.skipped[1].reason).toBe('same URL as row 1 (one download serves both)');
    const skippedFile = (await readFile(join(out, 'skipped.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(skippedFile).toEqual(first.skipped);
    expect((await readFile(join(out, `${sha1(urls.photo)}.jpg`))).equals(jpg)).toBe(true);

    const byUrl = new Map(first.failures.map((f) => [f.url, f]));
    expect(byUrl.get(urls.missing)).toMatchObject({ row: 4, status: 404, attempts: 1 }); // 404 is not retried
    expect(byUrl.get(urls.missing)!.reason).toMatch(/HTTP 404/);
    expect(byUrl.get(urls.page)).toMatchObject({ row: 5, attempts: 1 });
    expect(byUrl.get(urls.page)!.reason).toMatch(/not an image \(content-type text\/html/);
    expect(byUrl.get(urls.slow)).toMatchObject({ row: 6, attempts: 2 }); // a timeout is retried
    expect(byUrl.get(urls.slow)!.reason).toMatch(/timed out after 200 ms/);
    expect(hits.get('/flaky.png')).toBe(2);
    expect(hits.get('/ok.png')).toBe(1); // two rows, one URL, one download

    const failuresFile = (await readFile(join(out, 'failures.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(failuresFile.map((f) => f.url).sort()).toEqual([urls.missing, urls.page, urls.slow].sort());
    const manifest = (await readFile(join(out, 'manifest.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(manifest.find((m) => m.url === urls.photo)).toMatchObject({ format: 'jpeg', width: 50, height: 70, bytes: jpg.length });

    // The loader now resolves the fetched rows and says why the others are missing.
    const loaded = await loadConceptualCaptions({ tsv, cacheDir: out });
    expect(loaded.samples.map((s) => s.caption)).toEqual(['a png', 'a photo', 'a flaky\tserver', 'a local file', 'the same png again']);
    expect(loaded.errors.map((e) => e.row)).toEqual([4, 5, 6]);
    expect(loaded.errors[0].reason).toMatch(/not in cache.*HTTP 404/);

    // Re-run through the CLI: only the three failures are requested again.
    const before = new Map(hits);
    const lines: string[] = [];
    await createDataCommand((l) => lines.push(l)).parseAsync(
      ['fetch-cc', '--tsv', tsv, '--out', out, '--timeout-ms', '200', '--retries', '0', '--quiet'],
      { from: 'user' },
    );
    for (const p of ['/ok.png', '/photo.jpg', '/flaky.png']) expect(hits.get(p)).toBe(before.get(p));
    for (const p of ['/missing.jpg', '/page.jpg', '/slow.jpg']) expect(hits.get(p)).toBe(before.get(p)! + 1);
    expect(lines[0]).toMatch(/3 already cached, 0 fetched, 3 failed .*; 1 local paths, 0 invalid, 0 bad rows/);
    // One line per row not fetched, with its reason; cached rows as a count.
    expect(lines).toContain(`  row 4: failed: HTTP 404 Not Found (${urls.missing}, 1 attempt)`);
    expect(lines).toContain(`  row 7: not fetched: local path, nothing to fetch (${join(dir, 'local.png')})`);
    expect(lines).toContain(`  row 8: not fetched: same URL as row 1 (one download serves both) (${urls.ok})`);
    expect(lines).toContain(`  3 rows already cached (listed in ${join(out, 'skipped.jsonl')})`);
    expect(lines.some((l) => /^\s+row 1:/.test(l))).toBe(false);
  });

  it('does not retry a redirect loop, and lists file://, escaping and unparsable rows with their reasons', async () => {
    const tsv = join(dir, 'loop', 'cc.tsv');
    await writeImage(join(dir, 'loop', 'inside.png'), 8, 8);
    await writeImage(join(dir, 'outside.png'), 8, 8);
    await writeFile(
      tsv,
      [
        `a loop\t${base}/loop.jpg`,
        `a file url\tfile://${join(dir, 'outside.png')}`,
        'climbs out\t../outside.png',
        'a local file\tinside.png',
        'cap\turl\tjunk',
      ].join('\n') + '\n',
    );
    const out = join(dir, 'cache-loop');
    const lines: string[] = [];
    const s = await fetchCc({ tsv, out, retries: 2, backoffMs: 1, progress: false, log: (l) => lines.push(l) });
    // One attempt: the request and its 20 redirects (before: 3 attempts, 63 requests).
    expect(hits.get('/loop.jpg')).toBe(21);
    expect(s.failures).toEqual([expect.objectContaining({ row: 1, attempts: 1, reason: 'too many redirects (more than 20: a redirect loop?)' })]);
    expect(s).toMatchObject({ rows: 4, remote: 1, local: 1, invalid: 2, rowErrors: 1, fetched: 0, failed: 1 });
    expect(s.skipped.map((x) => [x.row, x.kind])).toEqual([
      [2, 'invalid'],
      [3, 'invalid'],
      [4, 'local'],
      [5, 'bad-row'],
    ]);
    expect(s.skipped[0].reason).toMatch(/^file:\/\/ URLs are not allowed/);
    expect(s.skipped[1].reason).toMatch(/resolves to .*outside\.png, outside the local root/);
    expect(s.skipped[3].reason).toMatch(/expected 2 tab-separated fields "caption<TAB>url", found 3/);
    expect(lines).toContain(`  row 1: failed: too many redirects (more than 20: a redirect loop?) (${base}/loop.jpg, 1 attempt)`);
    expect(lines.filter((l) => /^  row [2-5]: not fetched: /.test(l))).toHaveLength(4);
    expect(lines.find((l) => l.startsWith('  row 5:'))).toMatch(/not fetched: bad row: expected 2 tab-separated fields/);

    // localRoot (--local-root) moves the folder local paths resolve against, as in the loader.
    const again = await fetchCc({ tsv, out, localRoot: join(dir, 'loop', 'sub'), progress: false });
    expect(again.skipped.find((x) => x.row === 3)).toMatchObject({ kind: 'invalid' });
    expect(again.skipped.find((x) => x.row === 4)).toMatchObject({
      kind: 'local',
      reason: `local path, nothing to fetch (${join(dir, 'loop', 'sub', 'inside.png')})`,
    });
    // The same through the CLI's --local-root (a TSV without remote rows: no request is made).
    const localOnly = join(dir, 'loop', 'local.tsv');
    await writeFile(localOnly, 'a local file\tinside.png\n');
    const cli: string[] = [];
    await createDataCommand((l) => cli.push(l)).parseAsync(
      ['fetch-cc', '--tsv', localOnly, '--out', out, '--local-root', join(dir, 'loop', 'sub'), '--quiet'],
      { from: 'user' },
    );
    expect(cli).toContain(`  row 1: not fetched: local path, nothing to fetch (${join(dir, 'loop', 'sub', 'inside.png')})`);
  });

  it('with --limit and --seed fetches exactly the rows the loader then picks', async () => {
    const tsv = join(dir, 'many.tsv');
    await writeFile(tsv, Array.from({ length: 30 }, (_, i) => `caption ${i + 1}\t${base}/img/${i + 1}.png\n`).join(''));
    const out = join(dir, 'cache-limit');
    const s = await fetchCc({ tsv, out, limit: 5, seed: 9, progress: false });
    expect(s).toMatchObject({ rows: 5, fetched: 5, failed: 0 });
    const same = await loadConceptualCaptions({ tsv, cacheDir: out, limit: 5, seed: 9 });
    expect(same.errors).toEqual([]);
    expect(same.samples).toHaveLength(5);
    const other = await loadConceptualCaptions({ tsv, cacheDir: out, limit: 5, seed: 10 });
    expect(other.errors.length).toBeGreaterThan(0);
    expect(other.errors[0].reason).toMatch(/not in cache/);
  });
});
