/** decodeImage: conversions that the fixture images do not cover, and error messages. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../src/image';
import { PREPROCESS_DIR } from './helpers/image-safetensors';

describe('decodeImage', () => {
  it('reduces a 16-bit RGB PNG to its high byte', async () => {
    const v16 = Uint16Array.from([300, 5300, 65535, 256, 511, 40000]); // 2x1 RGB
    const png = await sharp(v16, { raw: { width: 2, height: 1, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png).metadata()).depth).toBe('ushort'); // really a 16-bit file
    const img = await decodeImage(png, 'rgb16.png');
    expect(Array.from(img.data)).toEqual([1, 20, 255, 1, 1, 156]); // v >> 8
  });

  it('replicates a 16-bit grey PNG to RGB (high byte)', async () => {
    const v16 = Uint16Array.from([0, 300, 40000, 65535]);
    const png = await sharp(v16, { raw: { width: 4, height: 1, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    const img = await decodeImage(png);
    expect(Array.from(img.data)).toEqual([0, 0, 0, 1, 1, 1, 156, 156, 156, 255, 255, 255]);
  });

  it('drops alpha without compositing (grey + alpha, fully transparent pixel keeps its value)', async () => {
    const la = Uint8Array.from([200, 0, 50, 255]); // 2x1 grey+alpha: (200, transparent), (50, opaque)
    const png = await sharp(la, { raw: { width: 2, height: 1, channels: 2 } }).png().toBuffer();
    const img = await decodeImage(png);
    expect(Array.from(img.data)).toEqual([200, 200, 200, 50, 50, 50]);
  });

  it('the RGBA fixture really has a varying alpha (so its exact decode test checks alpha dropping)', async () => {
    const { data, info } = await sharp(path.join(PREPROCESS_DIR, 'square_rgba_224x224.png')).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    const alphas = new Set<number>();
    for (let i = 3; i < data.length; i += 4) alphas.add(data[i]);
    expect(alphas.size).toBeGreaterThan(10);
  });

  it('does not apply EXIF orientation (PIL / HF do not rotate)', async () => {
    const px = new Uint8Array(6 * 4 * 3).fill(9);
    px[0] = 250; // top-left red marker
    const jpg = await sharp(px, { raw: { width: 6, height: 4, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(jpg).metadata()).orientation).toBe(6);
    const img = await decodeImage(jpg);
    expect([img.width, img.height]).toEqual([6, 4]); // a rotation by 90° would give 4x6
  });

  it('names a missing file', async () => {
    const p = path.join(tmpdir(), 'no-such-dir-ceb', 'missing.png');
    await expect(decodeImage(p)).rejects.toThrow(`Cannot read image "${p}": file not found`);
  });

  it('names a file with undecodable bytes and gives the reason', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ceb-decode-'));
    const p = path.join(dir, 'not-an-image.jpg');
    writeFileSync(p, 'this is text, not a JPEG');
    await expect(decodeImage(p)).rejects.toThrow(new RegExp(`Cannot decode image ".*not-an-image\\.jpg": .*unsupported image format`));
    await expect(decodeImage(Buffer.from('xyz'), 'upload #3')).rejects.toThrow(/Cannot decode image "upload #3"/);
    await expect(decodeImage(Buffer.alloc(0), 'empty.png')).rejects.toThrow(/"empty.png": it is empty/);
  });

  it('rejects a truncated JPEG instead of returning grey rows', async () => {
    const full = readFileSync(path.join(PREPROCESS_DIR, 'photo_641x480.jpg'));
    await expect(decodeImage(full.subarray(0, full.length >> 1), 'half.jpg')).rejects.toThrow(/"half.jpg": .*premature end/i);
  });
});
