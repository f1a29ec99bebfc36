import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { VerifyImages } from './types';

export type ImageCheck =
  | { ok: true; width: number; height: number; format: string }
  | { ok: false; reason: string };

/**
 * Checks that an image exists and decodes completely (header AND pixel data: a truncated
 * JPEG has a valid header). Never throws: a broken image becomes `{ ok: false, reason }`
 * so a run can record it and go on. Width and height are as stored (before any EXIF
 * rotation), which is what box coordinates in the data files refer to.
 */
export async function checkImage(input: string | Buffer): Promise<ImageCheck> {
  if (typeof input === 'string') {
    try {
      const st = await stat(input);
      if (!st.isFile()) return { ok: false, reason: `not a file: ${input}` };
    } catch {
      return { ok: false, reason: `image not found: ${input}` };
    }
  }
  try {
    // failOn 'warning' turns libvips' "premature end of data" warnings into errors.
    const img = sharp(input, { failOn: 'warning' });
    const meta = await img.metadata();
    if (!meta.width || !meta.height || !meta.format) {
      return { ok: false, reason: 'cannot read image size or format' };
    }
    await img.raw().toBuffer();
    return { ok: true, width: meta.width, height: meta.height, format: meta.format };
  } catch (err) {
    const what = typeof input === 'string' ? input : 'body';
    return { ok: false, reason: `cannot decode image ${what}: ${(err as Error).message}` };
  }
}

/** Whether a path exists and is a regular file. */
export async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** How many images to check at once: decoding is CPU-bound, a stat is not. */
export function checkConcurrency(verify: VerifyImages): number {
  return verify === 'decode' ? 4 : 16;
}

/**
 * Why the image at `path` cannot be used at this verify level, or undefined: 'none' checks
 * nothing, 'exists' that it is a file, 'decode' that it decodes and then, with `sizeProblem`,
 * that its size is the expected one.
 */
export async function imageProblem(
  path: string,
  verify: VerifyImages,
  sizeProblem?: (width: number, height: number) => string | undefined,
): Promise<string | undefined> {
  if (verify === 'none') return undefined;
  if (verify === 'exists') return (await fileExists(path)) ? undefined : `image not found: ${path}`;
  const check = await checkImage(path);
  if (!check.ok) return check.reason;
  return sizeProblem?.(check.width, check.height);
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight; keeps the order. */
export async function mapPool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}
