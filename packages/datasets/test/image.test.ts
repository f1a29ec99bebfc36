import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkImage } from '../src/image';
import { useTempDir, writeImage, writeTruncatedJpeg } from './helpers';

describe('checkImage', () => {
  const dir = useTempDir('image');

  it('reports the stored size of a non-square image', async () => {
    await writeImage(join(dir, 'wide.jpg'), 300, 200, 'jpeg');
    expect(await checkImage(join(dir, 'wide.jpg'))).toEqual({ ok: true, width: 300, height: 200, format: 'jpeg' });
  });

  it('records a missing file instead of throwing', async () => {
    const r = await checkImage(join(dir, 'nope.png'));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/image not found: .*nope\.png/);
  });

  it('rejects a truncated JPEG whose header alone looks valid', async () => {
    await writeTruncatedJpeg(join(dir, 'cut.jpg'));
    const r = await checkImage(join(dir, 'cut.jpg'));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/cannot decode image/);
  });

  it('rejects a body that is not an image', async () => {
    await writeFile(join(dir, 'page.jpg'), '<html><body>Not found</body></html>');
    expect((await checkImage(join(dir, 'page.jpg'))).ok).toBe(false);
    expect((await checkImage(Buffer.from('plain text'))).ok).toBe(false);
  });
});
