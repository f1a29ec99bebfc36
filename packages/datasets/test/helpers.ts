import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect } from 'vitest';

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `ceb-datasets-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A temporary directory for the enclosing describe block: its path now, the directory made
 * before the block's tests (and before the block's own beforeAll hooks), removed after them.
 */
export function useTempDir(prefix: string): string {
  const dir = join(tmpdir(), `ceb-datasets-${prefix}-${randomUUID()}`);
  beforeAll(() => mkdir(dir));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A copy of the folder `from` at `to` (for a test that edits a stand-in's files); returns `to`. */
export async function copyTree(from: string, to: string): Promise<string> {
  await cp(from, to, { recursive: true });
  return to;
}

/**
 * Checks the reasons of `errors` by position: a string is the exact reason, a RegExp one the
 * reason must match. Positions that `expected` leaves out are not checked.
 */
export function expectReasons(errors: readonly { reason: string }[], expected: Readonly<Record<number, string | RegExp>>): void {
  for (const [i, want] of Object.entries(expected)) {
    const reason = errors[Number(i)]?.reason;
    if (typeof want === 'string') expect(reason, `reason ${i}`).toBe(want);
    else expect(reason, `reason ${i}`).toMatch(want);
  }
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
