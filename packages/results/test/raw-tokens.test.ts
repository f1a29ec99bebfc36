import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore, rawTokenValues } from '../src/index';

describe('raw token values kept beside the text scores', () => {
  it("M2IB's capacity over BOS … EOS: the caption's entries, in nats", () => {
    // 3 caption tokens; EOS carries ~100 nats, which squashed the min-max scores.
    expect(rawTokenValues({ capacity: [0.5, 2, 3, 1, 100], beta: 1 }, 3)).toEqual({ values: [2, 3, 1], what: 'capacity', unit: 'nats' });
  });
  it("KernelSHAP's Shapley values are one per caption token; a method's tokenScores span BOS … EOS", () => {
    expect(rawTokenValues({ phi: [0.1, -0.2], exact: true }, 2)).toEqual({ values: [0.1, -0.2], what: 'Shapley value', unit: 'cosine' });
    expect(rawTokenValues({ tokenScores: [0, 4, 5, 0], layer: 1 }, 2)).toEqual({ values: [4, 5], what: 'token score' });
  });
  it('nothing when no extra fits the caption (the scores are then the raw output, scaled over the caption)', () => {
    expect(rawTokenValues(undefined, 3)).toBeUndefined();
    expect(rawTokenValues({ masks: 200 }, 3)).toBeUndefined();
    expect(rawTokenValues({ capacity: [1, 2, 3] }, 3)).toBeUndefined(); // neither 3 + 2 long nor a per-caption extra
    expect(rawTokenValues({ phi: [1, NaN] }, 2)).toBeUndefined();
  });

  const root = mkdtempSync(join(tmpdir(), 'ceb-raw-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  it('the gallery text file carries them; an image map and a text map without them stay as before', () => {
    const store = new RunStore(join(root, 'run'), { resume: false });
    try {
      const t = store.writeGalleryMap('s:1', 'm2ib', 'beta=1', 'text', Float32Array.from([0.01, 0.02, 0]), [3], { capacity: [0, 2, 3, 1, 100] });
      expect(JSON.parse(readFileSync(join(root, 'run', 'gallery', 's_1', t.file), 'utf8'))).toEqual({ scores: [0.01, 0.02, 0].map((v) => Math.fround(v)), raw: [2, 3, 1], rawWhat: 'capacity', rawUnit: 'nats' });
      const u = store.writeGalleryMap('s:1', 'rise', 'default', 'text', Float32Array.from([1, 0]), [2], { masks: 100 });
      expect(JSON.parse(readFileSync(join(root, 'run', 'gallery', 's_1', u.file), 'utf8'))).toEqual({ scores: [1, 0] });
    } finally {
      store.close();
    }
  });
});
