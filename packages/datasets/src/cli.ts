import { Command, InvalidArgumentError } from 'commander';
import { fetchCc, type FetchFailure } from './fetch-cc';
import { generateSyntheticSet } from './synthetic';

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };
}

/** Logs how many downloads failed for each reason (HTTP status or the reason's first part), most frequent first. */
function logFailureReasons(failures: readonly FetchFailure[], log: (line: string) => void): void {
  const reasons = new Map<string, number>();
  for (const f of failures) {
    const k = f.status !== undefined ? `HTTP ${f.status}` : f.reason.split(':')[0];
    reasons.set(k, (reasons.get(k) ?? 0) + 1);
  }
  for (const [k, n] of [...reasons].sort((a, b) => b[1] - a[1])) log(`  ${n} × ${k}`);
}

/** `data fetch-cc`: fill the Conceptual Captions image cache. */
function addFetchCcCommand(data: Command, log: (line: string) => void): void {
  data
    .command('fetch-cc')
    .description('Download the images of a Conceptual Captions TSV into a local cache (only what is missing)')
    .requiredOption('--tsv <file>', 'caption<TAB>url TSV (no header)')
    .requiredOption('--out <dir>', 'cache directory (files are <sha1(url)>.<ext>)')
    .option('--local-root <dir>', 'folder that local image paths in the TSV resolve against and must stay inside (default: the TSV\'s folder)')
    .option('--limit <n>', 'fetch a seeded sample of this many rows', int('--limit', 0))
    .option('--seed <n>', 'seed of the --limit sample', int('--seed', 0), 0)
    .option('--concurrency <n>', 'downloads in flight', int('--concurrency', 1), 16)
    .option('--timeout-ms <n>', 'per attempt', int('--timeout-ms', 1), 15000)
    .option('--retries <n>', 'extra attempts after network errors, timeouts and HTTP 5xx/429 (never after 404, a bad body or a redirect loop)', int('--retries', 0), 2)
    .option('--backoff-ms <n>', 'first retry delay, doubled each retry', int('--backoff-ms', 0), 500)
    .option('--quiet', 'no progress bar')
    .action(async (o) => {
      const s = await fetchCc({
        tsv: o.tsv,
        out: o.out,
        localRoot: o.localRoot,
        limit: o.limit,
        seed: o.seed,
        concurrency: o.concurrency,
        timeoutMs: o.timeoutMs,
        retries: o.retries,
        backoffMs: o.backoffMs,
        progress: o.quiet ? false : undefined,
        log,
      });
      logFailureReasons(s.failures, log);
    });
}

/** `data synth`: write the synthetic grounding set. */
function addSynthCommand(data: Command, log: (line: string) => void): void {
  data
    .command('synth')
    .description('Generate the synthetic grounding set (coloured shapes, captions, boxes)')
    .requiredOption('--out <dir>', 'output directory')
    .option('--count <n>', 'number of images', int('--count', 1), 200)
    .option('--seed <n>', 'seed', int('--seed', 0), 0)
    .option('--size <n>', 'image side in pixels', int('--size', 64), 224)
    .option('--layout <list>', 'comma-separated: mscxr, cc', 'mscxr,cc')
    .action(async (o) => {
      const layouts = String(o.layout)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const l of layouts) {
        if (l !== 'mscxr' && l !== 'cc') throw new InvalidArgumentError(`--layout: unknown layout "${l}" (use mscxr, cc)`);
      }
      const set = await generateSyntheticSet({
        outDir: o.out,
        count: o.count,
        seed: o.seed,
        size: o.size,
        layouts: layouts as ('mscxr' | 'cc')[],
      });
      log(`synth: ${set.images.length} images in ${set.outDir}`);
      if (set.mscxrCsv) log(`  MS-CXR layout: ${set.mscxrCsv} (image root ${set.outDir})`);
      if (set.ccTsv) log(`  CC layout: ${set.ccTsv}`);
      log(`  manifest: ${set.manifest}`);
    });
}

/**
 * The `data` command: `fetch-cc` (fill the Conceptual Captions image cache) and `synth`
 * (write the synthetic grounding set). `log` receives the summary lines (default stdout).
 */
export function createDataCommand(log: (line: string) => void = (l) => console.log(l)): Command {
  const data = new Command('data').description('Data sets: fetch Conceptual Captions images, generate the synthetic set');
  addFetchCcCommand(data, log);
  addSynthCommand(data, log);
  return data;
}
