/** decodeImage on a CMYK JPEG: Pillow's convert('RGB') exactly (fixture written by Pillow 9.4, fixtures/cmyk/make.py). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../src/image';
import { cmykToRgb } from '../src/image/decode';

const DIR = fileURLToPath(new URL('./fixtures/cmyk/', import.meta.url));
const jpg = readFileSync(`${DIR}cmyk-48x32.jpg`);
const pil = new Uint8Array(readFileSync(`${DIR}cmyk-48x32.pil-rgb.bin`));

describe('CMYK JPEG', () => {
  it('the fixture is a CMYK JPEG, and a profile-based conversion would be far from PIL', async () => {
    expect((await sharp(jpg).metadata()).space).toBe('cmyk');
    const viaProfile = await sharp(jpg, { ignoreIcc: true }).raw().toBuffer();
    let max = 0;
    for (let i = 0; i < pil.length; i++) max = Math.max(max, Math.abs(viaProfile[i] - pil[i]));
    expect(max).toBeGreaterThan(20); // what decoding did before; the test below would catch a return to it
  });

  it('decodes to the RGB bytes PIL gives, every pixel', async () => {
    const img = await decodeImage(jpg, 'cmyk.jpg');
    expect([img.width, img.height]).toEqual([48, 32]);
    expect(img.data.length).toBe(pil.length);
    let diff = 0;
    for (let i = 0; i < pil.length; i++) diff = Math.max(diff, Math.abs(img.data[i] - pil[i]));
    expect(diff).toBe(0);
  });

  it("PIL's formula on hand-worked values: no ink is white, full K is black, rounding as MULDIV255", () => {
    const px = Uint8Array.from([0, 0, 0, 0, 255, 255, 255, 0, 0, 0, 0, 255, 128, 64, 0, 100]);
    // Last pixel: nk = 155; 128·155 + 128 = 19968 → (78 + 19968) >> 8 = 78 → 155 − 78 = 77; 64·155 + 128 = 10048 → 39 → 116; Y 0 → 155.
    expect(Array.from(cmykToRgb(px, 4))).toEqual([255, 255, 255, 0, 0, 0, 0, 0, 0, 77, 116, 155]);
  });
});
