/**
 * A second hand-made run folder: ten samples, M2IB swept over layer × beta on the image side
 * (beta alone on the text side, as a config with `text: { layer }` gives), Grad-CAM and a
 * random control; localisation with chance levels and an IoU-threshold family, binary
 * outputs, an internal curve, and a gallery whose M2IB text scores are squashed by EOS (as the
 * real min-max over BOS … EOS does) with the raw capacities beside them.
 * Every value follows from a "quality" q per method and point (QUALITY) and a small per-sample
 * wobble, so the orderings are known: m2ib at layer 9, beta 1 is the best point.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { MetricInfo } from '../src/index';
import { npy } from './fixture';

export const SWEEP_SAMPLES = Array.from({ length: 10 }, (_, i) => `t${String(i).padStart(2, '0')}:${(i * 7919).toString(16)}`);
export const BEST_POINT = 'layer=9,beta=1';

const point = (layer: number, beta: number) => `layer=${layer},beta=${beta}`;

/** Per side, method and point: the quality q in [0, 1] every value is built from. */
export const QUALITY: Record<'image' | 'text', Record<string, Record<string, number>>> = {
  image: {
    m2ib: { [point(7, 0.1)]: 0.3, [point(7, 1)]: 0.5, [point(9, 0.1)]: 0.6, [BEST_POINT]: 0.9 },
    gradcam: { default: 0.85 },
    random: { default: 0.1 },
  },
  text: {
    m2ib: { 'beta=0.1': 0.4, 'beta=1': 0.7 },
    gradcam: { default: 0.5 },
    random: { default: 0.1 },
  },
};

export const SWEEP_METRICS: MetricInfo[] = [
  { name: 'confidence-m2ib', kind: 'pair', outputs: { drop: false, increase: true }, substrate: 'mean colour', mode: 'm2ib', category: 'faithfulness', binary: { increase: 100 }, units: { drop: 'cosine×100', increase: 'percent of pairs' } },
  {
    name: 'localisation',
    kind: 'pair',
    outputs: { pointing: true, energy: true, miou: true, 'iou@0.25': true, 'iou@0.5': true, 'iou@0.75': true },
    substrate: 'none',
    category: 'localisation',
    binary: { pointing: 1 },
    headline: ['pointing', 'energy', 'miou'],
  },
  {
    name: 'insertion-deletion',
    kind: 'pair',
    outputs: { insertion: true, deletion: false },
    substrate: 'zero',
    category: 'faithfulness',
    curves: {
      insertion: { kind: 'score', x: 'fraction of {units} inserted', y: 'score', higherIsBetter: true },
      deletion: { kind: 'score', x: 'fraction of {units} deleted', y: 'score', higherIsBetter: false },
      counts: { kind: 'internal', x: 'step', y: 'units removed or restored' },
    },
  },
];

/** The per-sample wobble: −0.045 … 0.045, mixed in sign. */
const wobble = (i: number) => (((i * 37) % 10) - 4.5) / 100;

function values(side: 'image' | 'text', q: number, i: number, j: number): Record<string, number> {
  const e = wobble((i + j) % 10);
  const v: Record<string, number> = {
    'confidence-m2ib.drop': 10 * (1 - q) + 20 * e,
    'confidence-m2ib.increase': ((i * 7) % 10) / 10 < q ? 100 : 0,
    'insertion-deletion.insertion': 0.3 + 0.5 * q + e,
    'insertion-deletion.deletion': 0.6 - 0.4 * q + e,
  };
  if (side === 'image') {
    v['localisation.pointing'] = ((i * 3) % 10) / 10 < q ? 1 : 0;
    v['localisation.energy'] = 0.6 * q + e;
    const ious = [0.25, 0.5, 0.75].map((t) => Math.max(0, q - t / 2 + e / 10));
    ious.forEach((x, k) => (v[`localisation.iou@${[0.25, 0.5, 0.75][k]}`] = x));
    v['localisation.miou'] = ious.reduce((s, x) => s + x, 0) / 3;
  }
  return v;
}

export function sweepRecords() {
  const out: Record<string, unknown>[] = [];
  for (const side of ['image', 'text'] as const) {
    let j = 0;
    for (const [method, points] of Object.entries(QUALITY[side])) {
      for (const [key, q] of Object.entries(points)) {
        j++;
        const options = method === 'm2ib' ? (side === 'image' ? Object.fromEntries(key.split(',').map((kv) => [kv.split('=')[0], Number(kv.split('=')[1])])) : { layer: -2, beta: Number(key.split('=')[1]) }) : {};
        SWEEP_SAMPLES.forEach((sampleId, i) => {
          out.push({
            sampleId,
            method,
            side,
            point: key,
            options: { ...options, sigma2: 1 },
            values: values(side, q, i, method === 'gradcam' ? j + 3 : 0),
            curves: { 'insertion-deletion.insertion': [0, q / 2, q], 'insertion-deletion.deletion': [1, 1 - q / 2, 1 - q], 'insertion-deletion.counts': [0, 5000, 12000] },
            ...(side === 'image' ? { chance: { 'localisation.pointing': 0.25, 'localisation.energy': 0.1 } } : {}),
            ms: method === 'm2ib' ? 100 + i : 10 + i,
          });
        });
      }
    }
  }
  return out;
}

/** The caption of the gallery samples, its M2IB capacities (nats; BOS, 3 tokens, EOS) and the scores min-max over all five. */
export const SWEEP_TOKENS = ['a</w>', 'red</w>', 'circle</w>'];
export const M2IB_CAPACITY = [0.5, 2.5, 6, 4, 100];
export const M2IB_TEXT_SCORES = M2IB_CAPACITY.slice(1, -1).map((c) => (c - 0.5) / 99.5);

async function sweepGallery(dir: string, sampleId: string, slug: string): Promise<void> {
  const g = join(dir, 'gallery', slug);
  mkdirSync(g, { recursive: true });
  const px = new Uint8Array(8 * 8 * 3).map((_, i) => 60 + ((i * 5) % 120));
  writeFileSync(join(g, 'input.png'), await sharp(px, { raw: { width: 8, height: 8, channels: 3 } }).png().toBuffer());
  const maps = [
    { method: 'm2ib', point: BEST_POINT, side: 'image', file: `m2ib@${BEST_POINT}.image.npy` },
    { method: 'm2ib', point: 'beta=1', side: 'text', file: 'm2ib@beta=1.text.json' },
    { method: 'gradcam', point: 'default', side: 'image', file: 'gradcam@default.image.npy' },
    { method: 'gradcam', point: 'default', side: 'text', file: 'gradcam@default.text.json' },
  ];
  writeFileSync(join(g, maps[0].file), npy(new Float32Array(64).map((_, i) => (i % 8) / 7), [8, 8]));
  writeFileSync(join(g, maps[1].file), JSON.stringify({ scores: M2IB_TEXT_SCORES, raw: M2IB_CAPACITY.slice(1, -1), rawWhat: 'capacity', rawUnit: 'nats' }));
  writeFileSync(join(g, maps[2].file), npy(new Float32Array(64).map((_, i) => Math.floor(i / 8) / 7), [8, 8]));
  writeFileSync(join(g, maps[3].file), JSON.stringify({ scores: [0.2, 1, 0] }));
  writeFileSync(join(g, 'sample.json'), JSON.stringify({ sampleId, caption: 'a red circle', tokens: SWEEP_TOKENS, boxes: [{ x: 2, y: 2, w: 4, h: 3 }], image: 'input.png', maps }));
}

/** Writes the sweep run folder; returns its path. */
export async function writeSweepRunDir(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const methods = Object.entries(QUALITY.image).map(([name, pts]) => ({
    name,
    sides: ['image', 'text'],
    points: Object.keys(pts).map((key) => ({ key, options: {} })),
    ...(name === 'm2ib' ? { note: 'sigma2 ≠ 1 means noise and prior N(0, sigma2); the official code always uses 1' } : {}),
  }));
  const run = {
    runId: 'sweep-run',
    version: '0.1.0',
    startedAt: '2026-01-02T03:04:05.000Z',
    finishedAt: '2026-01-02T03:14:05.000Z',
    model: { path: 'models/synth-clip', layout: 'hf', vision: { imageSize: 8, patchSize: 4, hiddenSize: 16, numLayers: 2 } },
    dataset: { name: 'synthetic', kind: 'mscxr', samples: SWEEP_SAMPLES.length, split: 'test' },
    backend: { name: 'wasm' },
    seed: 0,
    methods,
    metrics: SWEEP_METRICS,
  };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(run));
  writeFileSync(join(dir, 'results.jsonl'), sweepRecords().map((r) => JSON.stringify(r) + '\n').join(''));
  writeFileSync(join(dir, 'dataset-metrics.jsonl'), '');
  writeFileSync(join(dir, 'errors.jsonl'), '');
  await sweepGallery(dir, SWEEP_SAMPLES[0], 't00');
  await sweepGallery(dir, SWEEP_SAMPLES[1], 't01');
  return dir;
}
