// The committed models/synth-clip: loads with core's loader and retrieves held-out captions
// far above chance; a randomly initialised model of the same shape does not. Forward only.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClip, ClipTokenizer, initBackend, loadClip, readClipConfig, type ClipModel } from '@ceb/core';
import { CAPTIONS, makeScenes, type Scene } from '../src/data';
import { evaluateRetrieval, type RetrievalReport } from '../src/evaluate';
import { initWeights } from '../src/model';
import { padIds } from '../src/train';
import { SHIPPED_MODEL_DIR } from './helpers';

// Not the training stream (seed 0) nor the README's held-out seeds.
const TEST_SEED = 271_828;
// Measured on these scenes (see models/synth-clip/README.md for the 500-image numbers):
// trained: 2–4-shape top-1 40%, top-5 82%; single-shape top-1 63%, colour 100%, shape 63%;
// random init (seeds 12345, 1, 2): top-1 ≤ 3%, top-5 ≤ 12%, colour ≤ 18%, shape ≤ 25%.
// Chance: top-1 1/57 ≈ 1.7%, top-5 5/57 ≈ 9%, colour 10%, shape 1/6.
let scenes: Scene[];
let singles: Scene[];
let captionIds: number[][];

beforeAll(async () => {
  await initBackend('wasm');
  // Drawn at 224 px and resized to the model's input, as the harness does.
  const size = readClipConfig(SHIPPED_MODEL_DIR).vision.imageSize;
  scenes = makeScenes(TEST_SEED, 60, size);
  singles = makeScenes(TEST_SEED + 1, 60, size, 1);
  const tokenizer = ClipTokenizer.fromModelDir(SHIPPED_MODEL_DIR);
  expect(tokenizer.source.kind).toBe('files');
  captionIds = padIds(CAPTIONS.map((c) => tokenizer.encodeForModel(c).ids), tokenizer.eosId);
});

/** Retrieval by `model` on the 2–4-shape scenes (`many`) and on the single-shape ones (`single`). */
function retrieval(model: ClipModel): { many: RetrievalReport; single: RetrievalReport } {
  return { many: evaluateRetrieval(model, scenes, captionIds), single: evaluateRetrieval(model, singles, captionIds) };
}

type Scores = Partial<Record<keyof RetrievalReport, number>>;

/** Each score named in `bounds` is at least its bound. */
function expectAtLeast(r: RetrievalReport, bounds: Scores): void {
  for (const [k, bound] of Object.entries(bounds)) expect(r[k as keyof RetrievalReport], k).toBeGreaterThanOrEqual(bound);
}

/** Each score named in `bounds` is at most its bound. */
function expectAtMost(r: RetrievalReport, bounds: Scores): void {
  for (const [k, bound] of Object.entries(bounds)) expect(r[k as keyof RetrievalReport], k).toBeLessThanOrEqual(bound);
}

describe('models/synth-clip', () => {
  let model: ClipModel | undefined;
  afterAll(() => model?.dispose());

  it('has the files of a Hugging Face CLIP folder', () => {
    for (const f of ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt', 'README.md', 'training.json']) {
      expect(existsSync(`${SHIPPED_MODEL_DIR}/${f}`), f).toBe(true);
    }
  });

  it('ranks held-out captions far above chance (60 + 60 images, ≥ 57 candidate captions each)', async () => {
    model = await loadClip(SHIPPED_MODEL_DIR);
    expect(model.source.configFrom).toBe('config.json');
    const { many, single } = retrieval(model);
    expect(many.chanceTop1).toBeLessThan(0.02);
    expectAtLeast(many, { top1: 0.25, top5: 0.6 });
    // Shape, not only colour (shapeCorrect): among the six captions of the right colour it picks the right one.
    expectAtLeast(single, { top1: 0.45, colorCorrect: 0.9, shapeCorrect: 0.45 });
  });

  it('a randomly initialised model of the same shape stays near chance', () => {
    const config = readClipConfig(SHIPPED_MODEL_DIR);
    const random = buildClip(initWeights(config, 12_345), config, { path: '(random)', layout: 'hf', configFrom: 'given' });
    try {
      const { many, single } = retrieval(random);
      expectAtMost(many, { top1: 0.1, top5: 0.2 });
      expectAtMost(single, { top5: 0.25, colorCorrect: 0.35, shapeCorrect: 0.35 });
    } finally {
      random.dispose();
    }
  });
});
