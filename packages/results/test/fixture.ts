/**
 * Writes a small but realistic results folder (the layout of docs/results-format.md) with
 * values chosen so that every mean can be worked out by hand. Written by hand, not through
 * the package's writer, so the reader and the report are tested against the format itself.
 * Exported as @ceb/results/testing for the report's tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { MetricInfo } from '../src/index';

export const S1 = 'img0001:aa11';
export const S2 = 'img0002:bb22';
export const S3 = 'img0003:cc33';
export const P1 = 'layer=9,beta=0.1';
export const P2 = 'layer=9,beta=1';
export const CAPTION_EVIL = 'a <script>alert("x")</script> dog & cat';

/** float32 .npy, format 1.0, written by hand from the NumPy format description. */
export function npy(data: Float32Array, shape: number[]): Buffer {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 11, ' ') + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

const metrics: MetricInfo[] = [
  { name: 'confidence-m2ib', kind: 'pair', outputs: { drop: false, increase: true }, substrate: 'dataset mean colour (0 in normalised space); text: token id 0', params: { textMask: 'median' }, mode: 'm2ib' },
  { name: 'localisation', kind: 'pair', outputs: { pointing: true }, substrate: 'none (reads the map only)', params: { tolerance: 15 } },
  {
    name: 'insertion-deletion',
    kind: 'pair',
    outputs: { insertion: true, deletion: false },
    substrate: 'deletion: 0 (normalised); insertion: blur k11 σ5',
    params: { step: 16 },
    curves: {
      insertion: { kind: 'score', x: 'fraction of {units} inserted', y: 'score', higherIsBetter: true },
      deletion: { kind: 'score', x: 'fraction of {units} deleted', y: 'score', higherIsBetter: false },
      counts: { kind: 'internal', x: 'step', y: 'units removed or restored' },
    },
  },
  {
    name: 'roar',
    kind: 'dataset',
    outputs: { auc: false, aucGainOverRandom: true },
    substrate: 'per-channel dataset mean',
    params: { fractions: [0.1, 0.5, 0.9] },
    curve: { x: 'fraction removed', y: 'accuracy', baseline: 'random', note: 'accuracy after removing the top fraction and retraining' },
  },
];

type V = Record<string, number | null>;
interface Rec {
  sampleId: string;
  method: string;
  side: 'image' | 'text';
  point: string;
  options: Record<string, unknown>;
  values: V;
  curves?: Record<string, number[]>;
  ms: number;
}

const opt = (beta: number) => ({ layer: 9, beta, sigma2: 1, steps: 10 });

/** The image side's value columns, in the order `records` gives them (one value per sample each). */
const IMAGE_COLUMNS = ['confidence-m2ib.drop', 'confidence-m2ib.increase', 'localisation.pointing', 'insertion-deletion.insertion', 'insertion-deletion.deletion'];

/**
 * Hand-worked means (image side, main point = m2ib@P1 and gradcam@default):
 *   drop ↓      m2ib P1 [1.0, 1.2, 1.4] = 1.2 (best)   m2ib P2 [2, 2, 2] = 2        gradcam [3, 4, 5] = 4
 *   increase ↑  m2ib P1 [0, 100, 50] = 50               m2ib P2 [0, 0, 30] = 10     gradcam [100, 100, null] = 100 (n=2, best)
 *   pointing ↑  m2ib P1 [1, 1, 1] = 1 (tie best)        m2ib P2 [0, 1, 1] = 0.6667  gradcam [1, 1, 1] = 1 (tie best)
 *   insertion ↑ m2ib P1 [0.5, 0.6, 0.7] = 0.6 (best)    m2ib P2 0.4 each            gradcam [0.3, 0.3, 0.6] = 0.4
 *   deletion ↓  m2ib P1 [0.2, 0.1, 0.3] = 0.2 (best)    m2ib P2 0.3 each            gradcam 0.25 each
 *   ms          m2ib [100, 200, 300] = 200 (both points) gradcam [10, 20, 30] = 20 (best)
 * Text side (m2ib only): P1 drop 0.5, increase 40; P2 drop 0.7, increase 20; ms 50.
 */
export function records(): Rec[] {
  const ids = [S1, S2, S3];
  const out: Rec[] = [];
  const img = (method: string, point: string, options: Record<string, unknown>, cols: (number | null)[][], ms: number[]) => {
    ids.forEach((sampleId, i) => {
      const values: V = {};
      IMAGE_COLUMNS.forEach((k, c) => (values[k] = cols[c][i]));
      out.push({
        sampleId,
        method,
        side: 'image',
        point,
        options,
        values,
        // two 3-point curves and one 5-point curve, to exercise the resampling
        curves: {
          'insertion-deletion.insertion': i === 2 ? [0, 0.25, 0.5, 0.75, 1] : [0, 0.5, 1],
          'insertion-deletion.deletion': i === 2 ? [1, 0.75, 0.5, 0.25, 0] : [1, 0.5, 0],
        },
        ms: ms[i],
      });
    });
  };
  // Columns (IMAGE_COLUMNS): drop, increase, pointing, insertion, deletion; then ms.
  img('m2ib', P1, opt(0.1), [[1.0, 1.2, 1.4], [0, 100, 50], [1, 1, 1], [0.5, 0.6, 0.7], [0.2, 0.1, 0.3]], [100, 200, 300]);
  img('m2ib', P2, opt(1), [[2, 2, 2], [0, 0, 30], [0, 1, 1], [0.4, 0.4, 0.4], [0.3, 0.3, 0.3]], [100, 200, 300]);
  img('gradcam', 'default', { layer: 11 }, [[3, 4, 5], [100, 100, null], [1, 1, 1], [0.3, 0.3, 0.6], [0.25, 0.25, 0.25]], [10, 20, 30]);
  for (const [point, beta, drop, inc] of [[P1, 0.1, 0.5, 40], [P2, 1, 0.7, 20]] as const) {
    for (const sampleId of ids) {
      out.push({ sampleId, method: 'm2ib', side: 'text', point, options: opt(beta), values: { 'confidence-m2ib.drop': drop, 'confidence-m2ib.increase': inc }, ms: 50 });
    }
  }
  return out;
}

export const datasetMetrics = () => [
  { metric: 'roar', method: 'm2ib', side: 'image', point: P1, values: { 'roar.auc': 0.41, 'roar.aucGainOverRandom': 0.07 }, curve: { x: [0, 0.1, 0.5, 0.9], y: [0.9, 0.6, 0.4, 0.2], baseline: [0.9, 0.85, 0.6, 0.3] }, n: 12 },
  { metric: 'roar', method: 'gradcam', side: 'image', point: 'default', values: { 'roar.auc': 0.45, 'roar.aucGainOverRandom': 0.03 }, curve: { x: [0, 0.1, 0.5, 0.9], y: [0.9, 0.7, 0.5, 0.25], baseline: [0.9, 0.85, 0.6, 0.3] }, n: 12 },
];

export const errors = () => [
  { stage: 'explain', sampleId: 'img0004:dd44', method: 'gradcam', side: 'image', point: 'default', reason: 'NaN in gradient <b>at block 3</b>' },
  { stage: 'load', file: 'data/captions.csv', row: 17, column: 'caption', reason: 'empty caption' },
];

export function runJson(overrides: Record<string, unknown> = {}) {
  return {
    runId: 'test-run-1',
    version: '0.1.0',
    startedAt: '2026-01-02T03:04:05.000Z',
    finishedAt: '2026-01-02T03:14:05.000Z',
    configPath: 'configs/test.yaml',
    config: { dataset: 'synthetic', methods: ['m2ib', 'gradcam'], seed: 0 },
    model: { path: 'models/synth-clip', layout: 'hf', vision: { imageSize: 8, patchSize: 4, hiddenSize: 16, numLayers: 2 }, text: { hiddenSize: 16, numLayers: 2 } },
    dataset: { name: 'synthetic', kind: 'mscxr', path: 'data/synth', samples: 4, split: 'test' },
    backend: { name: 'wasm', requested: 'auto' },
    hardware: { cpu: 'Test CPU 9000', cores: 2, memGiB: 8, node: 'v20.0.0', platform: 'linux' },
    seed: 0,
    shard: { index: 0, count: 1 },
    methods: [
      { name: 'm2ib', sides: ['image', 'text'], points: [{ key: P1, options: opt(0.1) }, { key: P2, options: opt(1) }], note: 'sigma2 ≠ 1 means noise and prior N(0, sigma2); the official code always uses 1' },
      { name: 'gradcam', sides: ['image'], points: [{ key: 'default', options: { layer: 11 } }] },
    ],
    metrics,
    ...overrides,
  };
}

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r) + '\n').join('');

/** An 8x8 RGB test image: a grey gradient. */
async function inputPng(): Promise<Buffer> {
  const px = new Uint8Array(8 * 8 * 3);
  for (let i = 0; i < 64; i++) px.fill(40 + i * 3, i * 3, i * 3 + 3);
  return sharp(px, { raw: { width: 8, height: 8, channels: 3 } }).png().toBuffer();
}

async function writeGallery(dir: string, sampleId: string, slug: string, caption: string, tokens: string[], boxes: unknown[]): Promise<void> {
  const g = join(dir, 'gallery', slug);
  mkdirSync(g, { recursive: true });
  writeFileSync(join(g, 'input.png'), await inputPng());
  const map = new Float32Array(64).map((_, i) => (i % 8) / 7);
  writeFileSync(join(g, `m2ib@${P1}.image.npy`), npy(map, [8, 8]));
  writeFileSync(join(g, `m2ib@${P1}.text.json`), JSON.stringify({ scores: tokens.map((_, i) => i / Math.max(1, tokens.length - 1)) }));
  // gradcam's map at a coarser grid (4x4): the overlay resizes it to the image
  writeFileSync(join(g, 'gradcam@default.image.npy'), npy(new Float32Array(16).map((_, i) => i / 15), [4, 4]));
  writeFileSync(
    join(g, 'sample.json'),
    JSON.stringify({
      sampleId,
      caption,
      tokens,
      boxes,
      image: 'input.png',
      maps: [
        { method: 'm2ib', point: P1, side: 'image', file: `m2ib@${P1}.image.npy` },
        { method: 'm2ib', point: P1, side: 'text', file: `m2ib@${P1}.text.json` },
        { method: 'gradcam', point: 'default', side: 'image', file: 'gradcam@default.image.npy' },
      ],
    }),
  );
}

export interface WriteOptions {
  /** Only these records (default all). */
  records?: Rec[];
  run?: Record<string, unknown>;
  datasetMetrics?: unknown[];
  errors?: unknown[];
  gallery?: boolean;
}

/** Write a run folder; returns its path. */
export async function writeRunDir(dir: string, o: WriteOptions = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify(runJson(o.run)));
  writeFileSync(join(dir, 'config.resolved.yaml'), 'dataset: synthetic\nmethods: [m2ib, gradcam]\nseed: 0\n');
  writeFileSync(join(dir, 'results.jsonl'), jsonl(o.records ?? records()));
  writeFileSync(join(dir, 'dataset-metrics.jsonl'), jsonl(o.datasetMetrics ?? datasetMetrics()));
  writeFileSync(join(dir, 'errors.jsonl'), jsonl(o.errors ?? errors()));
  if (o.gallery ?? true) {
    await writeGallery(dir, S1, 'img0001', 'a red circle above a square', ['a</w>', 'red</w>', 'circle</w>', 'above</w>', 'a</w>', 'square</w>'], [{ x: 1, y: 1, w: 3, h: 3 }]);
    await writeGallery(dir, S2, 'img0002', CAPTION_EVIL, ['a</w>', '<script>', 'dog</w>', '&</w>', 'cat</w>'], []);
  }
  return dir;
}

export * from './sweep-fixture';
