// `pnpm bench`: a config → results/<run-id>/ (records, errors, summary, report).
// `--workers N` runs N shards as child processes and merges them; `--shard i/n` runs one.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { BACKEND_NAMES } from '@ceb/core';
import { shardFolder, type Shard } from '@ceb/results';
import { finishRun } from '../finish';
import { checkInputsExist, loadConfig, type BenchConfig } from '../config/schema';
import { runBench } from '../run';
import { loadDataset } from '../data';

export interface BenchArgs {
  config: string;
  limit?: number;
  methods?: string[];
  metrics?: string[];
  shard?: Shard;
  workers: number;
  resume: boolean;
  out?: string;
  backend?: string;
  seed?: number;
  report: boolean;
  onlyDatasetMetrics?: boolean;
  progress?: boolean;
}

export const DEFAULT_CONFIG = fileURLToPath(new URL('../../../../configs/demo.yaml', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new Error(`--shard ${text}: expected i/n with 0 ≤ i < n, e.g. 0/4`);
  return { index, count };
}

const timestamp = () => new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');

/** The run folder: --out as given, else <config out>/<name>-<time>; --resume without --out takes the latest. */
export function runDirFor(cfg: BenchConfig, out: string | undefined, resume: boolean): { dir: string; runId: string } {
  if (out) return { dir: resolve(out), runId: resolve(out).split('/').pop()! };
  if (resume && existsSync(cfg.out)) {
    const runs = readdirSync(cfg.out)
      .filter((d) => d.startsWith(`${cfg.name}-`) && statSync(join(cfg.out, d)).isDirectory())
      .sort();
    if (runs.length) return { dir: join(cfg.out, runs[runs.length - 1]), runId: runs[runs.length - 1] };
  }
  const runId = `${cfg.name}-${timestamp()}`;
  return { dir: join(cfg.out, runId), runId };
}

function childArgs(a: BenchArgs, dir: string, shard: Shard): string[] {
  const args = ['bench', '--config', a.config, '--out', dir, '--shard', `${shard.index}/${shard.count}`, '--workers', '1', '--no-report'];
  // A child's output is a pipe, so its progress comes as a line every few seconds.
  if (a.progress === false) args.push('--no-progress');
  if (a.resume) args.push('--resume');
  if (a.limit !== undefined) args.push('--limit', String(a.limit));
  if (a.methods) args.push('--methods', a.methods.join(','));
  if (a.metrics) args.push('--metrics', a.metrics.join(','));
  if (a.backend) args.push('--backend', a.backend);
  if (a.seed !== undefined) args.push('--seed', String(a.seed));
  return args;
}

/** Runs one shard in a child process (its own tfjs engine: wasm uses one core per process). */
function runChild(args: string[], label: string, log: (s: string) => void): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INIT_CWD: process.cwd() } });
    const relay = (buf: Buffer) => {
      for (const line of buf.toString().split('\n')) if (line.trim()) log(`[${label}] ${line}`);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('error', rej);
    child.on('exit', (code, signal) => (code === 0 ? res() : rej(new Error(`${label} exited with ${signal ?? `code ${code}`}`))));
  });
}

export async function runBenchCommand(a: BenchArgs, log: (s: string) => void = console.log): Promise<string> {
  const cfg = loadConfig(a.config);
  if (a.backend) cfg.backend = a.backend;
  if (a.seed !== undefined) cfg.seed = a.seed;
  checkInputsExist(cfg, a.config);
  const { dir, runId } = runDirFor(cfg, a.out, a.resume);
  const common = { configPath: a.config, limit: a.limit, methods: a.methods, metrics: a.metrics, resume: a.resume, runId, log, progress: a.progress };

  if (a.shard) {
    // One shard of a larger run (e.g. a Slurm array task): dataset metrics run in the merge step.
    const out = await runBench(cfg, { ...common, dir: shardFolder(dir, a.shard), shard: a.shard, phase: 'pairs' });
    log(`shard ${a.shard.index}/${a.shard.count}: ${out.records} records written (${out.resumed} resumed), ${out.errors} errors in ${out.dir}`);
    return out.dir;
  }
  if (a.onlyDatasetMetrics) {
    await runBench(cfg, { ...common, dir, phase: 'dataset', resume: true });
    return finishRun(dir, cfg, { report: a.report, log });
  }
  if (a.workers > 1) {
    log(`run ${runId}: ${a.workers} workers → ${dir}`);
    // Generate / check the data once here, not in every worker at the same time.
    await loadDataset(cfg, log);
    const shards = Array.from({ length: a.workers }, (_, index) => ({ index, count: a.workers }));
    await Promise.all(shards.map((s) => runChild(childArgs(a, dir, s), `shard ${s.index}`, log)));
    // The merge step: dataset metrics over the whole set, then the summary and the report.
    await runBench(cfg, { ...common, dir, phase: 'dataset', resume: true });
    return finishRun(dir, cfg, { report: a.report, log });
  }
  const out = await runBench(cfg, { ...common, dir });
  log(`${out.records} records written (${out.resumed} resumed), ${out.errors} errors`);
  return finishRun(dir, cfg, { report: a.report, log });
}

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

export function createBenchCommand(): Command {
  return new Command('bench')
    .description('Run a data set through methods × metrics × a sweep; write results/<run-id>/ and its report')
    .option('--config <file>', 'run config (YAML)', DEFAULT_CONFIG)
    .option('--limit <n>', 'first N samples only')
    .option('--methods <a,b>', 'only these methods of the config')
    .option('--metrics <a,b>', 'only these metrics of the config')
    .option('--shard <i/n>', 'run the i-th of n deterministic shards (results go to <out>/shard-i-of-n)')
    .option('--workers <n>', 'run n shards as child processes and merge them; the default is the number of cores', String(cpus().length))
    .option('--resume', 'continue a killed run: skip records already written')
    .option('--out <dir>', 'run folder (default: <config out>/<name>-<time>; with --resume, the latest)')
    .addOption(new Option('--backend <name>', 'tensor backend (overrides the config)').choices(BACKEND_NAMES as string[]))
    .option('--seed <n>', 'seed (overrides the config)')
    .option('--only-dataset-metrics', 'the merge step of a sharded run: ROAR / sanity over the whole set, summary, report')
    .option('--no-report', 'do not render report.html at the end')
    .option('--no-progress', 'no progress bar')
    .action(async (o) => {
      const num = (v: string | undefined, name: string) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} ${v}: expected a non-negative integer`);
        return n;
      };
      await runBenchCommand({
        config: o.config,
        limit: num(o.limit, 'limit'),
        methods: o.methods ? list(o.methods) : undefined,
        metrics: o.metrics ? list(o.metrics) : undefined,
        shard: o.shard ? parseShard(o.shard) : undefined,
        workers: Math.max(1, num(o.workers, 'workers') ?? 1),
        resume: Boolean(o.resume),
        out: o.out,
        backend: o.backend,
        seed: num(o.seed, 'seed'),
        report: o.report !== false,
        onlyDatasetMetrics: Boolean(o.onlyDatasetMetrics),
        progress: o.progress !== false,
      });
    });
}
