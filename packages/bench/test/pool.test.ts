// `pnpm bench --threads 2` on the fixture model: the pair phase shares each pair's work over
// a worker pool, run.json says how many threads, and a worker killed in the middle of a pair
// is an error for that unit of that pair (errors.jsonl) while the run goes on with a fresh worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { injectPoolFault } from '@ceb/core';
import { generateSyntheticSet } from '@ceb/datasets';
import { readJsonl, type ErrorRecord, type ResultRecord } from '@ceb/results';
import { runBenchCommand, workersAndThreads } from '../src/cli/bench';
import { CLIP_FIXTURE_DIR } from './helpers/fixtures';

let root: string;
let config: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'bench-pool-'));
  await generateSyntheticSet({ outDir: join(root, 'data'), count: 3, seed: 5, layouts: ['mscxr'] });
  config = join(root, 'pool.yaml');
  writeFileSync(
    config,
    stringify({
      name: 'pool',
      model: CLIP_FIXTURE_DIR,
      dataset: { kind: 'mscxr', csv: join(root, 'data/synthetic_mscxr.csv'), imageRoot: join(root, 'data') },
      // 2 copies over 2 threads: each step hands one task to the worker, 2 steps × 2 sides per sample.
      methods: { m2ib: { layer: 1, steps: 2, copies: 2 } },
      metrics: {},
      out: join(root, 'results'),
    }),
  );
});
afterAll(() => {
  injectPoolFault(undefined);
  rmSync(root, { recursive: true, force: true });
});

describe('bench --threads', () => {
  it('a worker killed mid-pair fails that unit only: recorded in errors.jsonl, the run goes on with a fresh worker', async () => {
    const out = join(root, 'run');
    // Task 5 is the first step of the second sample's image side.
    injectPoolFault({ atTask: 5 });
    await runBenchCommand({ config, out, workers: 1, threads: 2, resume: false, report: false, progress: false }, () => {});
    const records = readJsonl(join(out, 'results.jsonl')) as ResultRecord[];
    const errors = (readJsonl(join(out, 'errors.jsonl')) as ErrorRecord[]).filter((e) => e.stage === 'explain');
    expect(errors).toHaveLength(1);
    expect(errors[0].reason).toMatch(/pool worker 1 of 1 stopped .* while running m2ibPartialStep; a fresh worker starts for the next task/);
    const failed = `${errors[0].sampleId}|${errors[0].side}`;
    expect(failed.endsWith('|image')).toBe(true);
    // Every other unit of every sample has its record: 3 samples × 2 sides − the failed one.
    const done = new Set(records.map((r) => `${r.sampleId}|${r.side}`));
    expect(done.size).toBe(5);
    expect(done.has(failed)).toBe(false);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.backend.threads).toBe(2);
  });

  it('--threads N alone takes cores ÷ N workers; workers × threads over the cores is refused', () => {
    expect(workersAndThreads('8', '2', false, 8)).toEqual({ workers: 4, threads: 2 });
    expect(workersAndThreads('8', undefined, false, 8)).toEqual({ workers: 8 });
    expect(workersAndThreads('2', '2', true, 8)).toEqual({ workers: 2, threads: 2 });
    expect(() => workersAndThreads('3', '2', true, 4)).toThrow(/--workers 3 × --threads 2 = 6 threads on 4 cores/);
  });
});
