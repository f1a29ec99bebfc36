/**
 * Heat-map rendering for the `explain` CLI and the HTML report: colour-map a [0,1] saliency map
 * and blend it over an image, encoded as PNG with sharp.
 */
import sharp from 'sharp';
import { assertRgbImage, type RgbImage } from '@ceb/types';

export type Colormap = 'jet' | 'viridis' | 'inferno';

// viridis / inferno: 9 evenly spaced sRGB anchor colours of the matplotlib maps, interpolated
// linearly; close enough for display (not a colour-exact copy of the 256-entry tables).
const ANCHORS: Record<'viridis' | 'inferno', number[]> = {
  viridis: [0x440154, 0x472c7a, 0x3b518b, 0x2c718e, 0x21908d, 0x27ad81, 0x5cc863, 0xaadc32, 0xfde725],
  inferno: [0x000004, 0x1f0c48, 0x550f6d, 0x88226a, 0xba3655, 0xe35933, 0xf98c0a, 0xf9c932, 0xfcffa4],
};

const clamp01 = (v: number): number => (v > 1 ? 1 : v > 0 ? v : 0); // NaN -> 0

/** 256-entry RGB lookup table for a colour map. */
function colormapLut(name: Colormap | 'grey'): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let rgb: [number, number, number];
    if (name === 'grey') {
      rgb = [t, t, t];
    } else if (name === 'jet') {
      // Piecewise-linear jet: blue -> cyan -> yellow -> red.
      rgb = [clamp01(1.5 - Math.abs(4 * t - 3)), clamp01(1.5 - Math.abs(4 * t - 2)), clamp01(1.5 - Math.abs(4 * t - 1))];
    } else if (name === 'viridis' || name === 'inferno') {
      const a = ANCHORS[name];
      const f = t * (a.length - 1);
      const k = Math.min(Math.floor(f), a.length - 2);
      const u = f - k;
      const ch = (c: number, s: number) => ((c >> s) & 255) / 255;
      rgb = [16, 8, 0].map((s) => ch(a[k], s) * (1 - u) + ch(a[k + 1], s) * u) as [number, number, number];
    } else {
      throw new RangeError(`Unknown colormap "${String(name)}" (expected jet, viridis, inferno or grey)`);
    }
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(rgb[c] * 255);
  }
  return lut;
}

function checkMap(map: Float32Array, w: number, h: number, what: string): void {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0) {
    throw new RangeError(`${what}: map size must be positive integers, got ${w}x${h}`);
  }
  if (map.length !== w * h) throw new RangeError(`${what}: map has ${map.length} values, expected ${h}x${w} = ${w * h}`);
}

/** Bilinear resize with half-pixel centres (align_corners = false), edge-clamped. */
function resizeMapBilinear(map: Float32Array, w: number, h: number, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(Math.max((y + 0.5) * (h / outH) - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const v = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = Math.min(Math.max((x + 0.5) * (w / outW) - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const u = fx - x0;
      out[y * outW + x] =
        (map[y0 * w + x0] * (1 - u) + map[y0 * w + x1] * u) * (1 - v) + (map[y1 * w + x0] * (1 - u) + map[y1 * w + x1] * u) * v;
    }
  }
  return out;
}

const lutIndex = (v: number): number => Math.round(clamp01(v) * 255);

/** A map of w x h values in [0,1] (row-major; out-of-range clamped, NaN shown as 0) as a PNG. */
export async function mapToPng(
  map: Float32Array,
  w: number,
  h: number,
  opts: { colormap?: Colormap | 'grey' } = {},
): Promise<Buffer> {
  checkMap(map, w, h, 'mapToPng');
  const cm = opts.colormap ?? 'grey';
  if (cm === 'grey') {
    const px = new Uint8Array(w * h);
    for (let i = 0; i < px.length; i++) px[i] = lutIndex(map[i]);
    // 'b-w' keeps a 1-channel PNG (sharp would otherwise write sRGB).
    return sharp(px, { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  }
  const lut = colormapLut(cm);
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const k = lutIndex(map[i]) * 3;
    px[i * 3] = lut[k];
    px[i * 3 + 1] = lut[k + 1];
    px[i * 3 + 2] = lut[k + 2];
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

export interface HeatmapOverlayOptions {
  /** Weight of the colour map in the blend, 0..1 (default 0.5). */
  alpha?: number;
  colormap?: Colormap;
  /** Size of `map` when it differs from the image's; it is then resized bilinearly to the image. */
  mapWidth?: number;
  mapHeight?: number;
}

/** The colour-mapped `map` blended over `img`: out = (1 - alpha) * img + alpha * colour(map). */
export function heatmapOverlay(img: RgbImage, map: Float32Array, opts: HeatmapOverlayOptions = {}): RgbImage {
  assertRgbImage(img, 'heatmapOverlayPng image');
  const alpha = opts.alpha ?? 0.5;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`heatmapOverlayPng: alpha must be in [0, 1], got ${alpha}`);
  const mw = opts.mapWidth ?? img.width;
  const mh = opts.mapHeight ?? img.height;
  checkMap(map, mw, mh, 'heatmapOverlayPng');
  const m = mw === img.width && mh === img.height ? map : resizeMapBilinear(map, mw, mh, img.width, img.height);
  const lut = colormapLut(opts.colormap ?? 'jet');
  const n = img.width * img.height;
  const px = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const k = lutIndex(m[i]) * 3;
    for (let c = 0; c < 3; c++) px[i * 3 + c] = Math.round((1 - alpha) * img.data[i * 3 + c] + alpha * lut[k + c]);
  }
  return { width: img.width, height: img.height, data: px };
}

/** heatmapOverlay as a PNG. */
export async function heatmapOverlayPng(img: RgbImage, map: Float32Array, opts: HeatmapOverlayOptions = {}): Promise<Buffer> {
  const over = heatmapOverlay(img, map, opts);
  return sharp(over.data, { raw: { width: over.width, height: over.height, channels: 3 } }).png().toBuffer();
}
