/** heatmapOverlayPng / mapToPng: decoded back with sharp and compared with hand-computed colours. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { RgbImage } from '@ceb/types';
import { heatmapOverlayPng, mapToPng } from '../src/heatmap';

async function decodePng(png: Buffer): Promise<{ width: number; height: number; channels: number; data: Buffer }> {
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
}

const W = 64;
const H = 48;
const grey: RgbImage = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(100) };
/** 1 in the top-left quadrant (x < 32, y < 24), 0 elsewhere. */
const quadrant = Float32Array.from({ length: W * H }, (_, i) => (i % W < W / 2 && Math.floor(i / W) < H / 2 ? 1 : 0));

describe('heatmapOverlayPng', () => {
  it('colours the hot quadrant differently from the rest, with the expected jet blend', async () => {
    const out = await decodePng(await heatmapOverlayPng(grey, quadrant, { alpha: 0.5, colormap: 'jet' }));
    expect([out.width, out.height, out.channels]).toEqual([W, H, 3]);
    // jet(1) = dark red (128, 0, 0), jet(0) = dark blue (0, 0, 128); blended 50/50 with grey 100:
    // hot = (114, 50, 50), cold = (50, 50, 114).
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const px = Array.from(out.data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
        expect(px).toEqual(x < 32 && y < 24 ? [114, 50, 50] : [50, 50, 114]);
      }
    }
  });

  it.each(['viridis', 'inferno'] as const)('%s: hot and cold quadrants differ, alpha 0 leaves the image', async (colormap) => {
    const out = await decodePng(await heatmapOverlayPng(grey, quadrant, { colormap, alpha: 0.6 }));
    const hot = Array.from(out.data.subarray(0, 3));
    const cold = Array.from(out.data.subarray((H * W - 1) * 3, H * W * 3));
    expect(hot).not.toEqual(cold);
    // Hot end of both maps is bright yellow-ish, cold end dark: the hot pixel is brighter.
    expect(hot[0] + hot[1] + hot[2]).toBeGreaterThan(cold[0] + cold[1] + cold[2]);
    const none = await decodePng(await heatmapOverlayPng(grey, quadrant, { colormap, alpha: 0 }));
    expect(none.data.every((v) => v === 100)).toBe(true);
  });

  it('resizes a smaller map to the image (2x2 map, hot top-left)', async () => {
    const out = await decodePng(await heatmapOverlayPng(grey, Float32Array.from([1, 0, 0, 0]), { mapWidth: 2, mapHeight: 2 }));
    expect([out.width, out.height]).toEqual([W, H]);
    expect(Array.from(out.data.subarray(0, 3))).toEqual([114, 50, 50]); // corner = map[0] (edge-clamped)
    expect(Array.from(out.data.subarray((H * W - 1) * 3))).toEqual([50, 50, 114]);
  });

  it('rejects a map of the wrong size and a bad alpha', async () => {
    await expect(heatmapOverlayPng(grey, new Float32Array(10))).rejects.toThrow(/map has 10 values, expected 48x64 = 3072/);
    await expect(heatmapOverlayPng(grey, quadrant, { alpha: 2 })).rejects.toThrow(/alpha/);
  });
});

describe('mapToPng', () => {
  it('grey: one channel, value round(v * 255), clamped', async () => {
    const png = await mapToPng(Float32Array.from([0, 0.5, 1, 2, -1, NaN]), 3, 2);
    expect((await sharp(png).metadata()).channels).toBe(1); // stored as a 1-channel PNG
    const out = await decodePng(png); // sharp hands grey back as R = G = B
    expect([out.width, out.height]).toEqual([3, 2]);
    const red = Array.from({ length: 6 }, (_, i) => out.data[i * out.channels]);
    expect(red).toEqual([0, 128, 255, 255, 0, 0]);
  });

  it('colormap: RGB with the map colours', async () => {
    const out = await decodePng(await mapToPng(Float32Array.from([0, 1]), 2, 1, { colormap: 'jet' }));
    expect(out.channels).toBe(3);
    expect(Array.from(out.data)).toEqual([0, 0, 128, 128, 0, 0]);
  });
});
