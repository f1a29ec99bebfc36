// `--dry-run`: every shipped config plans against the geometry of the model it names (a stub
// folder holding only that config.json, no data files) and passes with data-missing warnings
// only; a last block in a sweep is a problem naming the key and the value; the geometry and the
// cost model are checked against hand-worked values.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readClipConfig } from '@ceb/core';
import { REPO_ROOT } from '@ceb/core/testing';
import { loadConfig } from '../src/config/schema';
import { estimatePrefix, estimateUnit, readCostModel } from '../src/cost';
import { dryRun } from '../src/dry-run';
import { geometryOf, readModelGeometry } from '../src/geometry';
import { buildPlan } from '../src/plan';
import { CLIP_FIXTURE_DIR } from './helpers/fixtures';
import { runBenchCli } from './helpers/cli';

const root = mkdtempSync(join(tmpdir(), 'bench-dry-'));
const CONFIGS = join(REPO_ROOT, 'configs');

/** openai/clip-vit-base-patch32's geometry, as its config.json states it. */
const VIT_B32 = {
  projection_dim: 512,
  text_config: { hidden_size: 512, intermediate_size: 2048, num_attention_heads: 8, num_hidden_layers: 12, max_position_embeddings: 77, vocab_size: 49408 },
  vision_config: { hidden_size: 768, intermediate_size: 3072, num_attention_heads: 12, num_hidden_layers: 12, image_size: 224, patch_size: 32 },
};

function stubModel(name: string, config: object | string): string {
  const dir = join(root, 'models', name);
  mkdirSync(dir, { recursive: true });
  if (typeof config === 'string') copyFileSync(config, join(dir, 'config.json'));
  else writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

const vitB32 = stubModel('vit-b32', VIT_B32);
const shippedSmall = stubModel('synth-clip', join(REPO_ROOT, 'models/synth-clip/config.json'));

/** A shipped config copied into <root>/configs (its data paths then point into the empty <root>), its model the stub. */
function stubbed(file: string, edit: (c: Record<string, unknown>) => void = () => {}): string {
  const c = parse(readFileSync(join(CONFIGS, file), 'utf8')) as Record<string, unknown>;
  c.model = String(c.model).includes('synth-clip') ? shippedSmall : vitB32;
  edit(c);
  mkdirSync(join(root, 'configs'), { recursive: true });
  const out = join(root, 'configs', file);
  writeFileSync(out, stringify(c));
  return out;
}

const shipped = readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml'));

describe('--dry-run on every shipped config', () => {
  it('covers the configs the issue names', () => {
    expect(shipped).toEqual(expect.arrayContaining(['cc.yaml', 'cxr.yaml', 'demo.yaml', 'sweep-m2ib.yaml', 'nib-imagenet.yaml', 'nib-flickr8k.yaml']));
  });

  it.each(shipped)('%s: the plan passes against its model, with data-missing warnings only', async (file) => {
    const path = stubbed(file);
    const r = await dryRun({ cfg: loadConfig(path), configPath: path, shards: 16 });
    expect(r.problems).toEqual([]);
    expect(r.warnings.filter((w) => w.kind !== 'data')).toEqual([]);
    expect(r.lines.join('\n')).toMatch(/the plan passes/);
    // The shipped cost file is read and the estimate is made for every unit.
    expect(r.estimate?.perSampleMs).toBeGreaterThan(0);
    expect(r.lines.join('\n')).not.toMatch(/not in the estimate/);
  });
});

describe('the plan check', () => {
  it('a sweep holding the last block fails naming methods.m2ib.layer and the value, once per side', async () => {
    const path = stubbed('sweep-m2ib.yaml', (c) => ((c.methods as Record<string, Record<string, unknown>>).m2ib.layer = [3, 11]));
    const r = await dryRun({ cfg: loadConfig(path), configPath: path, shards: 1 });
    expect(r.problems.map((p) => [p.key, p.value])).toEqual([['methods.m2ib.layer', 11], ['methods.m2ib.layer', 11]]);
    expect(r.problems[0].message).toMatch(/methods\.m2ib\.layer: 11 is the vision tower's last block.*Choose a block in 0…10/);
    expect(r.problems[1].message).toMatch(/text tower's last block/);
  });

  it('a metric that needs boxes on a data set without them is a problem', async () => {
    const path = stubbed('cc.yaml', (c) => ((c.metrics as Record<string, unknown>).localisation = {}));
    const r = await dryRun({ cfg: loadConfig(path), configPath: path, shards: 1 });
    expect(r.problems.map((p) => p.key)).toEqual(['metrics.localisation']);
    expect(r.problems[0].message).toMatch(/needs ground-truth boxes, and a "cc" data set has none/);
  });

  it('the CLI exits non-zero on a problem, printing the plan first', async () => {
    const path = stubbed('sweep-m2ib.yaml', (c) => ((c.methods as Record<string, Record<string, unknown>>).m2ib.layer = [3, 11]));
    const r = await runBenchCli(['--config', path, '--dry-run', '--workers', '4']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/plan: \d+ method × side × sweep point/);
    expect(r.out).toMatch(/methods\.m2ib\.layer: 11/);
    expect(r.out).toMatch(/error: --dry-run: 2 problem\(s\)/);
  }, 60_000);

  it('counts the samples from the CSV when the data is there (no image decoded), and records from them', async () => {
    const data = join(root, 'data-present');
    mkdirSync(join(data, 'files/p10000001/s1'), { recursive: true });
    const rows = ['a,cat,one,files/p10000001/s1/a.png,1,1,2,2,8,8', 'b,cat,two,files/p10000001/s1/b.png,1,1,2,2,8,8', 'c,cat,three,files/p10000001/s1/c.png,1,1,9,2,8,8'];
    writeFileSync(join(data, 'set.csv'), ['dicom_id,category_name,label_text,path,x,y,w,h,image_width,image_height', ...rows].join('\n') + '\n');
    const path = stubbed('cxr.yaml', (c) => (c.dataset = { kind: 'mscxr', csv: join(data, 'set.csv'), imageRoot: data }));
    const r = await dryRun({ cfg: loadConfig(path), configPath: path, shards: 1 });
    // Three rows, the third's box leaves its 8 px image: two samples (the images are never opened).
    expect(r.samples).toBe(2);
    expect(r.warnings).toEqual([]);
    const units = buildPlan(loadConfig(path)).units.length;
    expect(r.records.pair).toBe(2 * units);
    expect(r.lines.join('\n')).toMatch(/2 sample\(s\) \(counted from .*set\.csv \(1 row\(s\) unusable/);
  });
});

describe('geometry without loading the model', () => {
  it('a .pt checkpoint without config.json: from its tensor shapes, the same as the config.json beside the original', async () => {
    const dir = join(root, 'pt-only');
    mkdirSync(dir);
    copyFileSync(join(CLIP_FIXTURE_DIR, 'openai_state_dict.pt'), join(dir, 'model.pt'));
    const g = await readModelGeometry(join(dir, 'model.pt'));
    const want = geometryOf(readClipConfig(CLIP_FIXTURE_DIR), '');
    expect({ ...g, source: '' }).toEqual(want);
    expect(g.source).toMatch(/tensor shapes of the checkpoint/);
  });

  it('a safetensors file without config.json: from its header alone', async () => {
    const dir = join(root, 'st-only');
    mkdirSync(dir);
    copyFileSync(join(CLIP_FIXTURE_DIR, 'model.safetensors'), join(dir, 'model.safetensors'));
    const g = await readModelGeometry(join(dir, 'model.safetensors'));
    expect({ ...g, source: '' }).toEqual(geometryOf(readClipConfig(CLIP_FIXTURE_DIR), ''));
    expect(g.source).toMatch(/safetensors header/);
  });
});

describe('the cost model', () => {
  const perf = (edit: (p: Record<string, unknown>) => void = () => {}) => {
    const p: Record<string, unknown> = {
      backend: 'wasm',
      machine: { cpus: 2, cpu: 'test cpu' },
      geometry: 'ViT-B/32 (random weights): vision 768×12, text 512×12, 50 vision tokens',
      model: { imageForwardB1Ms: 400, imageForwardB10Ms: 4000, textForwardB1Ms: 100, textForwardB10Ms: 500, lastTwoBlocksFwdBwdB10Ms: 1700 },
      m2ib: { imageMapMs: 16000, textMapMs: 2000, pairMs: 18600, prefixMs: 600, fullModelPairMs: 40000, settings: 'layer 9, 10 steps, 10 copies, 12-token caption' },
      methods: { 'rise (masks=100, textMasks=100)': { pairMs: 50000 }, 'rise (masks=6000, textMasks=1000, estimated)': { pairMs: 2_500_000 }, sobel: { pairMs: 50 } },
    };
    edit(p);
    const file = join(root, `perf-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(p));
    return file;
  };
  const unitsOf = (methods: Record<string, unknown>) => {
    const path = stubbed('cc.yaml', (c) => {
      c.methods = methods;
      c.metrics = { 'confidence-m2ib': {} };
    });
    return buildPlan(loadConfig(path)).units;
  };
  const g = geometryOf(readClipConfig(join(REPO_ROOT, 'models/synth-clip')), 'synth');

  it('names the file and the missing field', () => {
    const file = perf((p) => delete (p.model as Record<string, unknown>).textForwardB1Ms);
    expect(() => readCostModel(file)).toThrow(new RegExp(`${file}: field "model\\.textForwardB1Ms" is missing`));
    expect(() => readCostModel(join(root, 'nope.json'))).toThrow(/nope\.json does not exist: write it with pnpm bench:perf --out/);
  });

  it('scales by blocks after the layer × tokens × width² and by steps × copies (hand-worked)', () => {
    const c = readCostModel(perf());
    const vit = geometryOf(readClipConfig(vitB32), 'vit');
    const [img, txt] = unitsOf({ m2ib: { layer: 6, steps: 20, copies: 5 } });
    // ViT-B/32 itself: layer 6 leaves 5 blocks against the measured 2 (layer 9); 20·5 = 100 = 10·10.
    expect(estimateUnit(c, vit, img).ms).toBeCloseTo((16000 * 5) / 2, 6);
    expect(estimateUnit(c, vit, txt).ms).toBeCloseTo((2000 * 5) / 2, 6);
    // synth-clip: vision 96 wide, 3 blocks, 50 tokens (112 px / 16); layer 6 is out of its range: not estimated.
    expect(estimateUnit(c, g, img).ms).toBeUndefined();
  });

  it('splits a both-sides row by tower time × counts, and scales the counts linearly', () => {
    const c = readCostModel(perf());
    const vit = geometryOf(readClipConfig(vitB32), 'vit');
    const [img, txt] = unitsOf({ rise: { masks: 200, textMasks: 50 } });
    // Measured row: 50000 ms, image share 400·100 / (400·100 + 100·100) = 0.8.
    expect(estimateUnit(c, vit, img).ms).toBeCloseTo(50000 * 0.8 * 2, 6);
    expect(estimateUnit(c, vit, txt).ms).toBeCloseTo(50000 * 0.2 * 0.5, 6);
    const [sobel] = unitsOf({ sobel: {} });
    // Whole vision tower on synth-clip: 3·50·96² against 12·50·768².
    expect(estimateUnit(c, g, sobel).ms).toBeCloseTo((50 * 3 * 96 * 96) / (12 * 768 * 768), 9);
    expect(estimatePrefix(c, vit)).toBeCloseTo(600, 9);
  });
});
