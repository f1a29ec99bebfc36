// `pnpm explain` end to end on the fixture model: files, their formats, and the printout.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runExplain } from '../src/cli/explain';
import { checkOptions } from '@ceb/core';
import { formatMethodList, M2IB_OPTIONS } from '@ceb/methods';
import { CLIP_FIXTURE_DIR, SHARED_FIXTURES } from './helpers/fixtures';

const image = join(SHARED_FIXTURES, 'preprocess/photo_641x480.jpg');

/** Reads a float32 .npy written in format 1.0: magic, version, header length, header, data. */
function readNpy(buf: Buffer): { shape: number[]; data: Float32Array } {
  expect(buf.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
  const len = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + len).toString('latin1');
  expect((10 + len) % 64).toBe(0);
  expect(header).toContain("'descr': '<f4'");
  const shape = header.match(/'shape': \(([^)]*)\)/)![1].split(',').filter((s) => s.trim()).map(Number);
  const body = buf.subarray(10 + len);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)) };
}

describe('explain', () => {
  it('writes an overlay of the cropped input, the raw map (.npy and JSON) and token scores', async () => {
    const out = mkdtempSync(join(tmpdir(), 'explain-'));
    const lines: string[] = [];
    const res = await runExplain(
      { model: CLIP_FIXTURE_DIR, image, text: 'a photo of a cat', method: 'm2ib', out, backend: 'wasm', options: { layer: '1', steps: '3', seed: '4' } },
      (l) => lines.push(l),
    );
    const size = JSON.parse(readFileSync(join(CLIP_FIXTURE_DIR, 'config.json'), 'utf8')).vision_config.image_size;
    const png = await sharp(join(out, 'image-overlay.png')).metadata();
    expect([png.width, png.height]).toEqual([size, size]);
    const npy = readNpy(readFileSync(join(out, 'image-map.npy')));
    expect(npy.shape).toEqual([size, size]);
    const json = JSON.parse(readFileSync(join(out, 'image-map.json'), 'utf8'));
    expect(json.options).toMatchObject({ layer: 1, steps: 3, seed: 4 });
    expect(Float32Array.from(json.scores)).toEqual(npy.data);
    expect(Math.max(...npy.data)).toBeCloseTo(1, 6);
    expect(Math.min(...npy.data)).toBeCloseTo(0, 6);
    const text = JSON.parse(readFileSync(join(out, 'text-scores.json'), 'utf8'));
    expect(text.tokens.length).toBe(text.scores.length);
    expect(text.tokens.join('')).toBe('aphotoofacat');
    // One printed line per token, with its score.
    for (const [i, t] of text.tokens.entries()) {
      expect(lines.some((l) => l.includes(t) && l.includes(text.scores[i].toFixed(3)))).toBe(true);
    }
    expect(res.files.length).toBe(4);
  });

  it('parity quirks reach the model: the pair is scored differently and the printout says so', async () => {
    const run = async (quirks?: { textCausalMask?: boolean }) => {
      const lines: string[] = [];
      const res = await runExplain(
        { model: CLIP_FIXTURE_DIR, image, text: 'a photo of a cat', method: 'random', out: mkdtempSync(join(tmpdir(), 'explain-q-')), backend: 'wasm', options: {}, quirks },
        (l) => lines.push(l),
      );
      return { similarity: res.similarity, lines };
    };
    const standard = await run();
    const bidirectional = await run({ textCausalMask: false });
    expect(Math.abs(standard.similarity - bidirectional.similarity)).toBeGreaterThan(1e-4);
    expect(standard.lines[0]).not.toContain('quirks');
    expect(bidirectional.lines[0]).toContain('with quirks: text tower without the causal mask');
  });

  it('a bad option value or an unknown option names the option and what is allowed', () => {
    expect(() => checkOptions(M2IB_OPTIONS, { beta: 'x' }, '--method m2ib')).toThrow(/--method m2ib\.beta: expected a number/);
    expect(() => checkOptions(M2IB_OPTIONS, { layer: '1.5' }, '--method m2ib')).toThrow(/layer: expected an integer/);
    expect(() => checkOptions(M2IB_OPTIONS, { gamma: 1 }, '--method m2ib')).toThrow(/gamma: unknown option; known: layer, beta/);
  });

  it('an image that does not exist is an error naming it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'explain-'));
    await expect(
      runExplain({ model: CLIP_FIXTURE_DIR, image: '/nope/missing.jpg', text: 'a cat', method: 'm2ib', out, backend: 'wasm', options: {} }, () => {}),
    ).rejects.toThrow(/missing\.jpg/);
  });

  it('--list-methods prints every registered method with its options and defaults', () => {
    const text = formatMethodList();
    for (const name of ['m2ib', 'gradcam', 'gradcam-elementwise', 'saliency', 'rise', 'occlusion', 'kernelshap', 'rollout', 'chefer', 'random', 'sobel', 'uniform']) {
      expect(text).toMatch(new RegExp(`^${name}\\s`, 'm'));
    }
    expect(text).toContain('--beta (number in [0, ∞], default 0.1)');
  });
});
