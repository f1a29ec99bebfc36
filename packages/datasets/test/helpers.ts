import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `ceb-datasets-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A solid-colour image of the given size and format. */
export async function imageBuffer(width: number, height: number, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const img = sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 40 } } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg().toBuffer();
}

export async function writeImage(path: string, width: number, height: number, format: 'png' | 'jpeg' = 'png') {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, await imageBuffer(width, height, format));
}

/** A JPEG cut in half: its header is fine, its pixel data is not. */
export async function writeTruncatedJpeg(path: string, width = 64, height = 48) {
  const full = await sharp({
    create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
  })
    .jpeg()
    .toBuffer();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, full.subarray(0, Math.floor(full.length / 2)));
}
