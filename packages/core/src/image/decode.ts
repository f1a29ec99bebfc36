/**
 * Image decoding with sharp (libvips: libjpeg-turbo, libspng/libpng), converted the way the
 * Hugging Face CLIP processor converts a PIL image (`convert_rgb`):
 * - grey is replicated to R = G = B;
 * - an alpha channel is DROPPED, not composited over a background (RGBA -> RGB keeps the
 *   colour values of transparent pixels, exactly as PIL's convert('RGB') does);
 * - 16-bit PNGs become 8-bit by keeping the high byte (v >> 8), as PIL does for 16-bit RGB(A).
 *   (PIL opens 16-bit grey as mode I and clips values above 255 when converting to RGB; that
 *   quirk is not reproduced here: the high byte is the meaningful 8-bit reading.)
 * - EXIF orientation is NOT applied: neither PIL's Image.open nor the HF processor rotates, and
 *   the reference pixels are the stored ones. sharp only rotates when asked (autoOrient), so we
 *   do not ask.
 * - an embedded ICC profile is ignored (PIL does not colour-manage on open either).
 * - CMYK (JPEGs from print workflows) becomes RGB by PIL's own formula, not through a colour
 *   profile: R = (255 − K) − C·(255 − K)/255 in PIL's rounding (cmykToRgb). libvips hands over
 *   the CMYK values PIL's JPEG reader sees (both read Adobe-inverted CMYK), so the result is
 *   PIL's convert('RGB') exactly (docs/preprocessing.md).
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { RgbImage } from '@ceb/types';

/**
 * Decode a JPEG/PNG (or anything else sharp reads) from a path or bytes into 8-bit HWC RGB.
 * `name` labels the input in error messages when bytes are given (defaults to "<buffer>").
 */
export async function decodeImage(input: string | Buffer | Uint8Array, name?: string): Promise<RgbImage> {
  let bytes: Buffer;
  let label: string;
  if (typeof input === 'string') {
    label = name ?? input;
    try {
      bytes = await readFile(input);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const reason = err.code === 'ENOENT' ? 'file not found' : err.message;
      throw new Error(`Cannot read image "${label}": ${reason}`, { cause: e });
    }
  } else {
    label = name ?? '<buffer>';
    bytes = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  }
  if (bytes.length === 0) throw new Error(`Cannot decode image "${label}": it is empty (0 bytes)`);

  let raw: { data: Buffer; info: sharp.OutputInfo };
  let cmyk = false;
  try {
    // failOn 'error': a truncated JPEG is still an error, but harmless warnings are not.
    const img = sharp(bytes, { ignoreIcc: true, failOn: 'error' });
    cmyk = (await img.metadata()).space === 'cmyk';
    // CMYK stays CMYK here (sharp would otherwise convert it through a CMYK profile): cmykToRgb does PIL's conversion.
    raw = await (cmyk ? img.pipelineColourspace('cmyk').toColourspace('cmyk') : img).raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new Error(`Cannot decode image "${label}": ${(e as Error).message}`, { cause: e });
  }
  if (cmyk) return { width: raw.info.width, height: raw.info.height, data: cmykToRgb(raw.data, raw.info.width * raw.info.height, raw.info.channels) };
  const { width, height, channels } = raw.info;
  const src = raw.data;
  // sharp's raw output is 8-bit sRGB by default (16-bit input is reduced to its high byte, so
  // one byte per sample); we still handle every channel layout explicitly.
  if (src.length !== width * height * channels) {
    throw new Error(
      `Cannot decode image "${label}": unexpected raw output of ${src.length} bytes for ${width}x${height}x${channels} 8-bit samples`,
    );
  }
  const n = width * height;
  const data = new Uint8Array(n * 3);
  if (channels === 3) {
    data.set(src);
  } else if (channels === 4) {
    for (let i = 0; i < n; i++) {
      data[i * 3] = src[i * 4];
      data[i * 3 + 1] = src[i * 4 + 1];
      data[i * 3 + 2] = src[i * 4 + 2];
    }
  } else if (channels === 1 || channels === 2) {
    for (let i = 0; i < n; i++) {
      const v = src[i * channels];
      data[i * 3] = v;
      data[i * 3 + 1] = v;
      data[i * 3 + 2] = v;
    }
  } else {
    throw new Error(`Cannot decode image "${label}": unsupported channel count ${channels}`);
  }
  return { width, height, data };
}

/**
 * PIL's CMYK → RGB (libImaging/Convert.c, cmyk2rgb, python-pillow/Pillow@4e5f09f, lines 541–553):
 * nk = 255 − K, each of R, G, B = clip(nk − MULDIV255(C|M|Y, nk)) with MULDIV255(a, b) =
 * (t + (t >> 8)) >> 8 for t = a·b + 128 (ImagingUtils.h:20).
 */
export function cmykToRgb(src: Uint8Array, pixels: number, channels = 4): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const p = i * channels;
    const nk = 255 - src[p + 3];
    for (let c = 0; c < 3; c++) {
      const t = src[p + c] * nk + 128;
      out[i * 3 + c] = Math.max(0, Math.min(255, nk - (((t >> 8) + t) >> 8)));
    }
  }
  return out;
}
