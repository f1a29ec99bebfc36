// `pnpm bench`: a config → results/<run-id>/ (records, errors, summary, report).
// `--workers N` runs N shards as child processes and merges them; `--shard i/n` runs one.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { BACKEND_NAMES, parseThreads } from '@ceb/core';
import { expandRunDirs, FILES, lockRunFolder, shardFolder, type Shard } from '@ceb/results';
import { finishRun } from '../finish';
import { checkInputsExist, loadConfig, type BenchConfig } from '../config/schema';
import { dryRun } from '../dry-run';
import { checkedPlan, runBench } from '../run';
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
  /** Print the plan, its problems and its cost; run nothing. */
  dryRun?: boolean;
  /** The bench:perf JSON the dry run estimates from (default docs/perf/<backend>.json). */
  perf?: string;
  /** Take the run folder's lock even from a live holder. */
  forceUnlock?: boolean;
  /** Threads per process for each pair's work (a worker pool, --threads); default 1. */
  threads?: number;
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

/** Whether a folder (or a shard in it) holds a started run, and whether every part of it finished. */
function runState(dir: string): 'none' | 'unfinished' | 'finished' {
  const infos = expandRunDirs([dir]).flatMap((d) => {
    try {
      return [JSON.parse(readFileSync(join(d, FILES.run), 'utf8')) as { finishedAt?: string }];
    } catch {
      return [];
    }
  });
  if (infos.length === 0) return 'none';
  return infos.every((i) => typeof i.finishedAt === 'string') ? 'finished' : 'unfinished';
}

/** --resume without --out: the newest run of this config that started (has run.json) and did not finish. */
function latestUnfinished(cfg: BenchConfig, log: (s: string) => void): { dir: string; runId: string } {
  const runs = existsSync(cfg.out) ? readdirSync(cfg.out).filter((d) => d.startsWith(`${cfg.name}-`) && statSync(join(cfg.out, d)).isDirectory()).sort().reverse() : [];
  for (const id of runs) {
    const state = runState(join(cfg.out, id));
    if (state === 'unfinished') {
      log(`resuming ${join(cfg.out, id)} (the newest unfinished run of ${cfg.name})`);
      return { dir: join(cfg.out, id), runId: id };
    }
    if (state === 'none') log(`skipping ${join(cfg.out, id)}: no run.json (a start that stopped before writing anything)`);
  }
  throw new Error(`--resume without --out: no unfinished run of "${cfg.name}" in ${cfg.out}${runs.length ? ` (${runs.length} folder(s), each finished or empty)` : ''}; pass --out FOLDER to say which run to continue`);
}

/** The run folder: --out as given, else <config out>/<name>-<time>; --resume without --out takes the newest unfinished run. */
export function runDirFor(cfg: BenchConfig, out: string | undefined, resume: boolean, log: (s: string) => void = () => {}): { dir: string; runId: string } {
  if (out) return { dir: resolve(out), runId: resolve(out).split('/').pop()! };
  if (resume) return latestUnfinished(cfg, log);
  const runId = `${cfg.name}-${timestamp()}`;
  return { dir: join(cfg.out, runId), runId };
}

function childArgs(a: BenchArgs, dir: string, shard: Shard): string[] {
  const args = ['bench', '--config', a.config, '--out', dir, '--shard', `${shard.index}/${shard.count}`, '--workers', '1', '--no-report'];
  // A child's output is a pipe, so its progress comes as a line every few seconds.
  if (a.progress === false) args.push('--no-progress');
  if (a.resume) args.push('--resume');
  if (a.forceUnlock) args.push('--force-unlock');
  if (a.limit !== undefined) args.push('--limit', String(a.limit));
  if (a.methods) args.push('--methods', a.methods.join(','));
  if (a.metrics) args.push('--metrics', a.metrics.join(','));
  if (a.backend) args.push('--backend', a.backend);
  if (a.seed !== undefined) args.push('--seed', String(a.seed));
  if (a.threads !== undefined) args.push('--threads', String(a.threads));
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

/** --dry-run: the plan, its problems and its cost, printed; non-zero exit when a problem would stop the run. */
async function printDryRun(a: BenchArgs, cfg: BenchConfig, log: (s: string) => void): Promise<string> {
  const r = await dryRun({ cfg, configPath: a.config, limit: a.limit, methods: a.methods, metrics: a.metrics, shards: a.shard?.count ?? a.workers, perfFile: a.perf });
  for (const line of r.lines) log(line);
  if (r.problems.length) throw new Error(`--dry-run: ${r.problems.length} problem(s) in ${a.config} (listed above)`);
  return a.config;
}

/** The merge step and everything one process does after the pairs: the summary and the report. */
async function runAndFinish(a: BenchArgs, cfg: BenchConfig, dir: string, common: Omit<Parameters<typeof runBench>[1], 'dir'>, log: (s: string) => void): Promise<string> {
  if (a.onlyDatasetMetrics) {
    await runBench(cfg, { ...common, dir, phase: 'dataset', resume: true });
    return finishRun(dir, cfg, { report: a.report, log });
  }
  if (a.workers > 1) {
    log(`run ${common.runId}: ${a.workers} workers → ${dir}`);
    // Generate / check the data once here, not in every worker at the same time.
    await loadDataset(cfg, log);
    const shards = Array.from({ length: a.workers }, (_, index) => ({ index, count: a.workers }));
    await Promise.all(shards.map((s) => runChild(childArgs(a, dir, s), `shard ${s.index}`, log)));
    // The merge step: dataset metrics over the whole set, then the summary and the report.
    await runBench(cfg, { ...common, dir, phase: 'dataset', resume: true });
    return finishRun(dir, cfg, { report: a.report, log });
  }
  const out = await runBench(cfg, { ...common, dir });
  log(`${out.records} records written (${out.resumed} resumed), ${out.failures} failure(s)${out.warnings ? ` and ${out.warnings} warning(s)` : ''}`);
  return finishRun(dir, cfg, { report: a.report, log });
}

export async function runBenchCommand(a: BenchArgs, log: (s: string) => void = console.log): Promise<string> {
  const cfg = loadConfig(a.config);
  if (a.backend) cfg.backend = a.backend;
  if (a.seed !== undefined) cfg.seed = a.seed;
  if (a.dryRun) return printDryRun(a, cfg, log);
  checkInputsExist(cfg, a.config);
  // What cannot pass on any sample stops here, before a folder or a record exists.
  const plan = await checkedPlan(cfg, { methods: a.methods, metrics: a.metrics }, a.config);
  const { dir, runId } = runDirFor(cfg, a.out, a.resume, log);
  const common = { configPath: a.config, limit: a.limit, methods: a.methods, metrics: a.metrics, resume: a.resume, forceUnlock: a.forceUnlock, runId, log, progress: a.progress, threads: a.threads, plan };

  if (a.shard) {
    // One shard of a larger run (e.g. a Slurm array task): it writes (and locks) only its shard folder; dataset metrics run in the merge step.
    const out = await runBench(cfg, { ...common, dir: shardFolder(dir, a.shard), shard: a.shard, phase: 'pairs' });
    log(`shard ${a.shard.index}/${a.shard.count}: ${out.records} records written (${out.resumed} resumed), ${out.failures} failure(s) in ${out.dir}`);
    return out.dir;
  }
  // One writer for the whole command: the run folder stays locked through the summary and the report.
  const lock = lockRunFolder(dir, { forceUnlock: a.forceUnlock, log });
  try {
    return await runAndFinish(a, cfg, dir, common, log);
  } finally {
    lock.release();
  }
}

/**
 * --workers × --threads within the cores: --threads N alone takes cores ÷ N workers; both given
 * must fit. Threads share one pair's work inside a process; workers are processes with a shard each.
 */
export function workersAndThreads(workersOpt: string, threadsOpt: string | undefined, workersGiven: boolean, cores = cpus().length): { workers: number; threads?: number } {
  const threads = parseThreads(threadsOpt);
  const w = Number(workersOpt);
  if (!Number.isInteger(w) || w < 0) throw new Error(`--workers ${workersOpt}: expected a non-negative integer`);
  if (threads === undefined) return { workers: Math.max(1, w) };
  const workers = workersGiven ? Math.max(1, w) : Math.max(1, Math.floor(cores / threads));
  if (workers * threads > cores) throw new Error(`--workers ${workers} × --threads ${threads} = ${workers * threads} threads on ${cores} cores: give fewer workers or threads (workers × threads ≤ cores)`);
  return { workers, threads };
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
    .option('--workers <n>', 'run n shards as child processes and merge them; the default is the number of cores (÷ --threads)', String(cpus().length))
    .option('--threads <n>', "threads per process for each pair's work (a worker pool; workers × threads ≤ cores); default 1")
    .option('--resume', 'continue a killed run of the same config: skip records already written (refused when the config differs)')
    .option('--out <dir>', 'run folder (default: <config out>/<name>-<time>; with --resume, the newest unfinished run)')
    .addOption(new Option('--backend <name>', 'tensor backend (overrides the config)').choices(BACKEND_NAMES as string[]))
    .option('--seed <n>', 'seed (overrides the config)')
    .option('--only-dataset-metrics', 'the merge step of a sharded run: ROAR / sanity over the whole set, summary, report')
    .option('--no-report', 'do not render report.html at the end')
    .option('--no-progress', 'no progress bar')
    .option('--dry-run', 'print the plan, check every point against the model, estimate the cost; run nothing')
    .option('--perf <file>', 'with --dry-run: the pnpm bench:perf --out JSON to estimate from (default docs/perf/<backend>.json)')
    .option('--force-unlock', "take the run folder's lock even if its holder looks alive (only when you know it is gone)")
    .action(async (o, cmd: Command) => {
      const { workers, threads } = workersAndThreads(o.workers, o.threads, cmd.getOptionValueSource('workers') === 'cli');
      const num = (v: string | undefined, name: string, min = 0) => {
        if (v === undefined) return undefined;
        const n = v.trim() === '' ? NaN : Number(v);
        if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${v}: expected ${min > 0 ? 'a positive' : 'a non-negative'} integer${name === 'limit' ? ' (leave --limit out for every sample)' : ''}`);
        return n;
      };
      await runBenchCommand({
        config: o.config,
        limit: num(o.limit, 'limit', 1),
        methods: o.methods ? list(o.methods) : undefined,
        metrics: o.metrics ? list(o.metrics) : undefined,
        shard: o.shard ? parseShard(o.shard) : undefined,
        workers,
        threads,
        resume: Boolean(o.resume),
        out: o.out,
        backend: o.backend,
        seed: num(o.seed, 'seed'),
        report: o.report !== false,
        onlyDatasetMetrics: Boolean(o.onlyDatasetMetrics),
        progress: o.progress !== false,
        dryRun: Boolean(o.dryRun),
        perf: o.perf,
        forceUnlock: Boolean(o.forceUnlock),
      });
    });
}
