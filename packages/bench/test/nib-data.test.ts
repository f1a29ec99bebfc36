// The two other data sets of the NIB table through a real run: Tiny-ImageNet validation (5 per
// class in sorted order, "a photo of a <entry>") and Flickr8k with its caption chosen by the
// model — against the image itself, or (NIB) against the first image of its batch.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { cosineRows, initBackend } from '@ceb/core';
import { generateFlickr8kStandIn, generateTinyImageNetStandIn, nibReferenceIndex } from '@ceb/datasets';
import { readJsonl, type ResultRecord } from '@ceb/results';
import { runBenchCommand } from '../src/cli/bench';
import { loadModelBundle, preparePair } from '../src/model-bundle';
import { CLIP_FIXTURE_DIR } from './helpers/fixtures';

let root: string;
const quiet = () => {};

function config(name: string, dataset: Record<string, unknown>, compare: string): string {
  const file = join(root, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({ name, model: CLIP_FIXTURE_DIR, dataset, methods: { m2ib: { layer: 1, steps: 2, copies: 2 } }, metrics: { 'confidence-nib': {} }, gallery: { samples: 0 }, compare, out: join(root, 'results') }),
  );
  return file;
}

const run = async (cfg: string, out: string) => {
  await runBenchCommand({ config: cfg, out, workers: 1, resume: false, report: false, progress: false }, quiet);
  return { records: readJsonl(join(out, 'results.jsonl')) as ResultRecord[], info: JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) };
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'bench-nib-data-'));
  await initBackend('wasm');
  await generateTinyImageNetStandIn({ outDir: join(root, 'tiny-imagenet-200'), classes: 3, imagesPerClass: 7, seed: 1 });
  await generateFlickr8kStandIn({ outDir: join(root, 'flickr8k'), count: 10, devCount: 5, testCount: 2, seed: 2 });
});

describe('the NIB table data sets in a run', () => {
  it('tiny-imagenet: perClass images of every class, captioned "a photo of a <entry>", compared with the ImageNet rows', async () => {
    const cfg = config('tin', { kind: 'tiny-imagenet', root: join(root, 'tiny-imagenet-200'), perClass: 2 }, 'nib-readme/imagenet');
    const { records, info } = await run(cfg, join(root, 'run-tin'));
    expect(info.dataset).toMatchObject({ kind: 'tiny-imagenet', samples: 6 });
    expect(new Set(records.map((r) => r.sampleId)).size).toBe(6);
    expect(info.comparison.dataset).toMatch(/Tiny-ImageNet/);
    expect(info.comparison.differences.join('\n')).not.toMatch(/^data:/m);
  });

  it('flickr8k: each image gets the candidate caption its own image matches best; nib-batch-first uses the first image of the batch', async () => {
    const bundle = await loadModelBundle(CLIP_FIXTURE_DIR);
    const ds = { kind: 'flickr8k', root: join(root, 'flickr8k'), flickrSplit: 'dev' };
    const own = await run(config('f-own', { ...ds, captionChoice: 'own' }, 'nib-readme/flickr8k'), join(root, 'run-own'));
    const nib = await run(config('f-nib', { ...ds, captionChoice: 'nib-batch-first', captionBatch: 2 }, 'nib-readme/flickr8k'), join(root, 'run-nib'));
    const { loadFlickr8k } = await import('@ceb/datasets');
    const { samples } = await loadFlickr8k({ root: join(root, 'flickr8k'), split: 'dev' });
    // The best candidate by hand: cosine of each candidate's embedding with an image's.
    const best = async (imageOf: number, i: number): Promise<string> => {
      const p = await preparePair(bundle, samples[imageOf].imagePath, samples[imageOf].caption);
      const cands = samples[i].captions!;
      const cos = cands.map((c) => tf.tidy(() => cosineRows(bundle.model.encodeText([bundle.tokenizer.encodeForModel(c, { contextLength: 77 }).ids]), bundle.model.encodeImage(p.pair.pixels)).dataSync()[0]));
      p.pair.pixels.dispose();
      return cands[cos.indexOf(Math.max(...cos))];
    };
    const { chooseCaptionsWithModel } = await import('../src/captions');
    const chosenOwn = await chooseCaptionsWithModel(bundle, samples, samples.map((_, i) => i), { reference: 'own', batch: 32 }, false);
    const chosenNib = await chooseCaptionsWithModel(bundle, samples, samples.map((_, i) => i), { reference: 'nib-batch-first', batch: 2 }, false);
    for (let i = 0; i < samples.length; i++) {
      expect(chosenOwn[i].caption).toBe(await best(i, i));
      expect(chosenNib[i].caption).toBe(await best(nibReferenceIndex(i, 2), i));
    }
    // The run explained the chosen caption: its text-side Y (the stripped caption against the clean image) is that caption's.
    for (const [runRecords, chosen] of [[own.records, chosenOwn], [nib.records, chosenNib]] as const) {
      const r = runRecords.find((x) => x.sampleId === samples[1].id && x.side === 'text')!;
      const p = await preparePair(bundle, samples[1].imagePath, chosen[1].caption);
      const y = tf.tidy(() => cosineRows(bundle.model.encodeText([p.pair.ids.slice(1, -1)]), bundle.model.encodeImage(p.pair.pixels)).dataSync()[0]);
      p.pair.pixels.dispose();
      expect(r.meta!['confidence-nib.clean'] as number).toBeCloseTo(y, 5);
    }
    // The run's sample ids are the data set's; both runs cover every dev image.
    expect(new Set(own.records.map((r) => r.sampleId))).toEqual(new Set(samples.map((s) => s.id)));
    expect(new Set(nib.records.map((r) => r.sampleId))).toEqual(new Set(samples.map((s) => s.id)));
    bundle.model.dispose();
  });
});
