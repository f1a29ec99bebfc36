// Run bookkeeping that cannot lie (issue 19): one writer per folder (real processes), stale locks
// taken over, filters and layers that cannot run stop before any record, every unusable row and
// every box the model cannot see is in errors.jsonl — once, also when the run started with
// --resume — and data outside its root is never read.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticSet, type SyntheticSet } from '@ceb/datasets';
import { readJsonl, recordIdentity, type ErrorRecord, type ResultRecord } from '@ceb/results';
import { createBenchCommand, runBenchCommand, runDirFor, type BenchArgs } from '../src/cli/bench';
import { loadConfig } from '../src/config/schema';
import { CLIP_FIXTURE_DIR } from './helpers/fixtures';
import { runBenchCli, startBench, waitFor } from './helpers/cli';

let root: string;
let set: SyntheticSet;
const data = () => join(root, 'data');

function writeConfig(name: string, extra: Record<string, unknown> = {}): string {
  const file = join(root, `${name}.yaml`);
  const config = {
    name,
    model: CLIP_FIXTURE_DIR,
    dataset: { kind: 'mscxr', csv: join(data(), 'synthetic_mscxr.csv'), imageRoot: data() },
    methods: { random: {} },
    metrics: { 'confidence-m2ib': {} },
    gallery: { samples: 0 },
    out: join(root, 'results'),
    ...extra,
  };
  writeFileSync(file, stringify(config));
  return file;
}

const args = (config: string, out: string, more: Partial<BenchArgs> = {}): BenchArgs => ({ config, out, workers: 1, resume: false, report: false, progress: false, ...more });
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);
const errorsOf = (dir: string) => readJsonl(join(dir, 'errors.jsonl')) as ErrorRecord[];

/** The pid of a process that has exited (a real one, so nothing else can hold it right away). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

function writeLock(dir: string, pid: number, refreshedAt = new Date().toISOString()): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'run.lock'), JSON.stringify({ pid, host: hostname(), startedAt: refreshedAt, refreshedAt, token: 'someone-else' }));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'bench-reliable-'));
  set = await generateSyntheticSet({ outDir: data(), count: 12, seed: 5, layouts: ['mscxr'] });
});

describe('one writer per run folder', () => {
  it('a second run into a folder being written is refused naming the holder; the first completes intact', async () => {
    const cfg = writeConfig('two', { methods: { m2ib: { layer: [1, 2], steps: 6, copies: 6 }, random: {} } });
    const out = join(root, 'run-two');
    const first = startBench(['--config', cfg, '--out', out, '--workers', '1', '--no-report', '--no-progress']);
    await waitFor(first.child, () => lines(join(out, 'results.jsonl')) >= 1, 'its first record');
    const second = await runBenchCli(['--config', cfg, '--out', out, '--workers', '1', '--no-report', '--no-progress', '--resume']);
    expect(second.code).not.toBe(0);
    expect(second.out).toMatch(new RegExp(`is in use: another run is writing into it, pid ${first.child.pid} on host `));
    const done = await first.exited;
    expect(done.code, done.out).toBe(0);
    const records = readJsonl(join(out, 'results.jsonl')) as ResultRecord[];
    // 12 samples × (m2ib: 2 sides × 2 layers + random: 2 sides), each identity once.
    expect(records.length).toBe(12 * 6);
    expect(new Set(records.map(recordIdentity)).size).toBe(records.length);
    expect(existsSync(join(out, 'run.lock'))).toBe(false); // released at the end
  }, 180_000);

  it("a dead holder's lock is reported and taken over; a live one is refused unless --force-unlock", async () => {
    const cfg = writeConfig('stale');
    const out = join(root, 'run-stale');
    const dead = await deadPid();
    writeLock(out, dead);
    const log: string[] = [];
    await runBenchCommand(args(cfg, out, { limit: 2 }), (l) => log.push(l));
    expect(log.join('\n')).toMatch(new RegExp(`took over the lock of .*run-stale: pid ${dead} on host .*; pid ${dead} is no longer running on this host`));
    expect(lines(join(out, 'results.jsonl'))).toBe(4);
    // No errors were written, so the end of the run names no errors.jsonl.
    expect(log.join('\n')).not.toMatch(/errors\.jsonl/);

    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const out2 = join(root, 'run-live');
      writeLock(out2, live.pid!);
      await expect(runBenchCommand(args(cfg, out2, { limit: 1 }), () => {})).rejects.toThrow(new RegExp(`in use: .*pid ${live.pid} on host .*--force-unlock`, 's'));
      expect(existsSync(join(out2, 'results.jsonl'))).toBe(false);
      const forced: string[] = [];
      await runBenchCommand(args(cfg, out2, { limit: 1, forceUnlock: true }), (l) => forced.push(l));
      expect(forced.join('\n')).toMatch(/took over the lock .*forced \(--force-unlock\)/);
      expect(lines(join(out2, 'results.jsonl'))).toBe(2);
    } finally {
      live.kill();
    }
  });
});

describe('what cannot run stops before any record', () => {
  it.each([
    ['--methods nosuch', [] as string[], ['--methods', 'nosuch'], /--methods nosuch: not one of this config's methods \(random\)/],
    ['layer: 99', ['gradcam'], [], /methods\.gradcam\.layer: 99 is outside the vision tower's blocks 0…3/],
  ])('%s exits non-zero and writes nothing', async (name, withGradcam, flags, message) => {
    const cfg = writeConfig(`stop-${withGradcam.length}`, withGradcam.length ? { methods: { gradcam: { layer: 99 }, random: {} } } : {});
    const out = join(root, `run-stop-${withGradcam.length}`);
    const r = await runBenchCli(['--config', cfg, '--out', out, '--workers', '1', '--no-report', ...flags]);
    expect(r.code, name).not.toBe(0);
    expect(r.out).toMatch(message);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('--limit 0 and numeric strings for options are errors, not "everything" / silently parsed', async () => {
    const cfg = writeConfig('limit0');
    await expect(createBenchCommand().parseAsync(['--config', cfg, '--limit', '0'], { from: 'user' })).rejects.toThrow(/--limit 0: expected a positive integer/);
    const quoted = writeConfig('quoted', { methods: { gradcam: { layer: '2' } } });
    expect(() => loadConfig(quoted)).toThrow(/methods\.gradcam\.layer: expected an integer, got the string "2"/);
  });

  it('an --out that is a file is said in words', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    await expect(runBenchCommand(args(writeConfig('file-out'), join(file, 'run')), () => {})).rejects.toThrow(/cannot create the run folder .*a-file\/run: a file is in the way/);
  });

  it('--resume without --out continues the newest unfinished run, not an empty folder a failed start left', () => {
    const cfg = loadConfig(writeConfig('latest', { out: join(root, 'latest-results') }));
    const older = join(cfg.out, 'latest-2030-01-01T00-00-00');
    mkdirSync(older, { recursive: true });
    writeFileSync(join(older, 'run.json'), JSON.stringify({ runId: 'latest-2030-01-01T00-00-00' }));
    mkdirSync(join(cfg.out, 'latest-2030-01-02T00-00-00'));
    const log: string[] = [];
    expect(runDirFor(cfg, undefined, true, (l) => log.push(l)).dir).toBe(older);
    expect(log.join('\n')).toMatch(/skipping .*latest-2030-01-02T00-00-00: no run\.json/);
    writeFileSync(join(older, 'run.json'), JSON.stringify({ runId: 'x', finishedAt: '2030-01-01T01:00:00Z' }));
    expect(() => runDirFor(cfg, undefined, true)).toThrow(/no unfinished run of "latest"/);
  });
});

/** An MS-CXR CSV row (the synthetic set's columns). */
const row = (dicom: string, label: string, path: string, box: [number, number, number, number], size: [number, number] = [224, 224]) =>
  [dicom, 'shape', label, path, ...box, ...size, 'test'].join(',');

describe('every sample counts or has a reason; data stays inside its root', () => {
  it('an MS-CXR run started with --resume records each unusable row once, and the boxes the model cannot see', async () => {
    const img = set.images[0];
    writeFileSync(join(root, 'outside.png'), await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).png().toBuffer());
    // 300 × 100: resized to 672 × 224, the model sees original x 100…200; a box at x 0…30 is in the image but not in the crop.
    mkdirSync(join(data(), 'files/p10000099/s1'), { recursive: true });
    await sharp({ create: { width: 300, height: 100, channels: 3, background: '#888' } }).png().toFile(join(data(), 'files/p10000099/s1/wide.png'));
    const csv = join(data(), 'bad.csv');
    writeFileSync(csv, [
      'dicom_id,category_name,label_text,path,x,y,w,h,image_width,image_height,split',
      row('good', 'a shape', img.path, [10, 10, 20, 20]),
      row('good', 'a shape', img.path, [10, 10, 20, 20]), // row 3: an exact repeat
      row('up', 'escapes', '../outside.png', [1, 1, 2, 2]),
      row('abs', 'absolute', '/etc/passwd', [1, 1, 2, 2]),
      row('wide', 'past the edge', img.path, [200, 10, 50, 20]),
      row('neg', 'negative', img.path, [-3, 10, 20, 20]),
      row('crop', 'not in the crop', 'files/p10000099/s1/wide.png', [0, 10, 30, 20], [300, 100]),
    ].join('\n') + '\n');
    const cfg = writeConfig('rows', { dataset: { kind: 'mscxr', csv, imageRoot: data() }, metrics: { 'confidence-m2ib': {}, localisation: {} } });
    const out = join(root, 'run-rows');
    await runBenchCommand(args(cfg, out, { resume: true }), () => {}); // the Slurm recipe: --resume from the first start
    const errors = errorsOf(out);
    const at = (r: number) => errors.filter((e) => e.row === r);
    expect(at(3)).toEqual([expect.objectContaining({ stage: 'load', severity: 'warning', reason: expect.stringMatching(/duplicate of row 2/) })]);
    expect(at(4)[0]).toMatchObject({ stage: 'load', column: 'path', reason: expect.stringMatching(/outside the image root/) });
    expect(at(5)[0]).toMatchObject({ stage: 'load', column: 'path', reason: expect.stringMatching(/absolute path "\/etc\/passwd" is not allowed/) });
    expect(at(6)[0]).toMatchObject({ stage: 'load', column: 'w', reason: expect.stringMatching(/past the image's right edge/) });
    expect(at(7)[0]).toMatchObject({ stage: 'load', column: 'x', reason: expect.stringMatching(/expected x ≥ 0/) });
    const crop = errors.filter((e) => e.stage === 'metric');
    expect(crop).toEqual([expect.objectContaining({ metric: 'localisation', row: 8, reason: expect.stringMatching(/outside the model's centre crop.*localisation left out for this sample/) })]);
    // The crop sample still counts in the other metric; the good one in both.
    const records = readJsonl(join(out, 'results.jsonl')) as ResultRecord[];
    expect(records.filter((r) => r.side === 'image').map((r) => Object.keys(r.values).some((k) => k.startsWith('localisation.'))).sort()).toEqual([false, true]);
    // A rerun with --resume finds them all there: nothing twice.
    await runBenchCommand(args(cfg, out, { resume: true }), () => {});
    expect(errorsOf(out)).toEqual(errors);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.failures).toBe(5); // 4 unusable rows (one sample each) + the crop sample; the duplicate is a warning
  });

  it('a Conceptual Captions row with file://, an absolute path, a climb out of the local root or a third field is an error', async () => {
    const img = set.images[1];
    const tsv = join(data(), 'cc.tsv');
    writeFileSync(tsv, [`a good row\t${img.path}`, 'file url\tfile:///etc/passwd', 'absolute\t/etc/passwd', 'climbs\t../outside.png', `junk\t${img.path}\tjunk`].join('\n') + '\n');
    const cfg = writeConfig('cc', { dataset: { kind: 'cc', tsv } });
    const out = join(root, 'run-cc');
    await runBenchCommand(args(cfg, out), () => {});
    const reasons = new Map(errorsOf(out).map((e) => [e.row, e.reason]));
    expect(reasons.get(2)).toMatch(/file:\/\/ URLs are not allowed/);
    expect(reasons.get(3)).toMatch(/absolute path "\/etc\/passwd" is not allowed/);
    expect(reasons.get(4)).toMatch(/outside the local root/);
    expect(reasons.get(5)).toMatch(/expected 2 tab-separated fields "caption<TAB>url", found 3/);
    expect(new Set((readJsonl(join(out, 'results.jsonl')) as ResultRecord[]).map((r) => r.sampleId))).toEqual(new Set(['cc:1']));
  });
});
