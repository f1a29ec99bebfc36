// The run config: YAML checked with zod (shape, unknown keys) and against the registries
// (method options, metric params). Every error names the key path and what is allowed.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BACKEND_NAMES, checkOptions, type OptionSpec } from '@ceb/core';
import { METHODS } from '@ceb/methods';
import { METRICS } from '@ceb/eval';
import { loadPublished, PUBLISHED_DIR } from '../published';

const scalar = z.union([z.number(), z.string(), z.boolean()]);
/** An option value, or a list of them: a list is a sweep axis. */
const optionValue = z.union([scalar, z.array(scalar).min(1)]);
const optionMap = z.record(z.string(), optionValue);

/** Options shared by both sides, `image:` / `text:` overrides, and `sides:` to run only some of the method's sides. */
const methodEntry = z
  .object({ image: optionMap.optional(), text: optionMap.optional(), sides: z.array(z.enum(['image', 'text'])).min(1).optional() })
  .catchall(optionValue)
  .nullable();

const splitSchema = z
  .object({
    /** Which part of the data set the pair metrics run on. */
    use: z.enum(['all', 'train', 'test']).default('all'),
    by: z.enum(['patient', 'image', 'column']).default('patient'),
    seed: z.number().int().default(0),
    trainFraction: z.number().gt(0).lt(1).default(0.8),
  })
  .strict();

/** A data set kind: its own fields, and the ones every kind has (name, limit, sample seed, split). */
function datasetKind<K extends string, S extends z.ZodRawShape>(kind: K, fields: S, splitBy: 'patient' | 'image') {
  return z
    .object({
      kind: z.literal(kind),
      name: z.string().optional(),
      ...fields,
      limit: z.number().int().positive().optional(),
      sampleSeed: z.number().int().default(0),
      split: splitSchema.default({ use: 'all', by: splitBy, seed: 0, trainFraction: 0.8 }),
    })
    .strict();
}

const datasetSchema = z.discriminatedUnion('kind', [
  datasetKind('mscxr', { csv: z.string(), imageRoot: z.string() }, 'patient'),
  datasetKind('cc', { tsv: z.string(), cacheDir: z.string().optional(), localRoot: z.string().optional() }, 'image'),
  /** Tiny-ImageNet validation as NIB builds it: `perClass` images per class in sorted file order. */
  datasetKind(
    'tiny-imagenet',
    { root: z.string(), perClass: z.number().int().positive().default(5), caption: z.enum(['full', 'first-name']).default('full') },
    'image',
  ),
  /**
   * Flickr8k: each image's caption is the candidate the model matches best, against the image
   * itself (`own`) or, as NIB's generate_attributions.py does, the first image of its batch.
   */
  datasetKind(
    'flickr8k',
    {
      root: z.string(),
      flickrSplit: z.enum(['train', 'dev', 'test', 'all']).default('dev'),
      captionChoice: z.enum(['own', 'nib-batch-first']).default('own'),
      captionBatch: z.number().int().positive().default(32),
    },
    'image',
  ),
  /** The generated grounding set: written to `dir` (MS-CXR layout) when absent. */
  datasetKind('synthetic', { dir: z.string(), count: z.number().int().positive(), seed: z.number().int().default(0) }, 'patient'),
]);

export const configSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ - only').default('run'),
    seed: z.number().int().default(0),
    backend: z.enum(BACKEND_NAMES as [string, ...string[]]).default('auto'),
    /** Model folder or checkpoint file. */
    model: z.string(),
    /**
     * Departures from standard CLIP, for parity with code that has them: the M2IB code's
     * chest X-ray wrapper runs its text tower with { textCausalMask: false, textProjectionTwice: true }.
     */
    modelQuirks: z
      .object({ textCausalMask: z.boolean().optional(), textProjectionTwice: z.boolean().optional() })
      .strict()
      .default({}),
    dataset: datasetSchema,
    /** method name → options; a list value sweeps that option; `image:` / `text:` override per side. */
    methods: z.record(z.string(), methodEntry),
    /**
     * metric name → params; `methods: [a, b]` limits a metric to some of the run's methods
     * (e.g. ROAR or the sanity check, which re-explain, only for the methods of interest).
     */
    metrics: z.record(z.string(), z.object({ methods: z.array(z.string()).min(1).optional() }).catchall(scalar).nullable()).default({}),
    /** Truncate captions longer than the context (default: record them as failures). */
    truncate: z.boolean().default(false),
    gallery: z.object({ samples: z.number().int().min(0).default(4) }).strict().default({ samples: 4 }),
    /** A published table to show beside the run: `<table>/<data set>` of configs/published (e.g. nib-readme/cc). */
    compare: z.string().optional(),
    out: z.string().default('results'),
  })
  .strict();

export type RawConfig = z.input<typeof configSchema>;
export type BenchConfig = z.output<typeof configSchema>;

function formatZodError(err: z.ZodError, file: string): string {
  return err.issues
    .map((i) => {
      const path = i.path.length ? i.path.join('.') : '(top level)';
      if (i.code === 'unrecognized_keys') return `${file}: ${path === '(top level)' ? '' : `${path}.`}${i.keys.join(', ')}: unknown key${i.keys.length > 1 ? 's' : ''}`;
      return `${file}: ${path}: ${i.message}`;
    })
    .join('\n');
}

/**
 * checkOptions for values from a YAML file: there a number is written as a number, so a quoted
 * "9" for a number option is an error (as it is for `seed`), not parsed as the CLI's strings are.
 */
function checkConfigValues(specs: Record<string, OptionSpec>, values: Record<string, unknown>, where: string): void {
  for (const [k, x] of Object.entries(values)) {
    const spec = specs[k];
    if (spec && spec.type !== 'string' && typeof x === 'string') {
      const what = spec.type === 'boolean' ? 'true or false' : spec.type === 'integer' ? 'an integer' : 'a number';
      throw new Error(`${where}.${k}: expected ${what}, got the string ${JSON.stringify(x)} (write it without quotes)`);
    }
  }
  checkOptions(specs, values, where);
}

/** Checks method names, their option values (every element of a sweep list) and metric params. */
function checkRegistries(cfg: BenchConfig, file: string): void {
  const problems: string[] = [];
  const tryCheck = (f: () => void) => {
    try {
      f();
    } catch (e) {
      problems.push(`${file}: ${(e as Error).message}`);
    }
  };
  if (Object.keys(cfg.methods).length === 0) problems.push(`${file}: methods: name at least one method (known: ${Object.keys(METHODS).join(', ')})`);
  for (const [name, entry] of Object.entries(cfg.methods)) {
    const method = METHODS[name];
    if (!method) {
      problems.push(`${file}: methods.${name}: unknown method; known: ${Object.keys(METHODS).join(', ')}`);
      continue;
    }
    const specs = method.options as Record<string, OptionSpec>;
    const { image, text, sides, ...shared } = entry ?? {};
    for (const s of sides ?? []) if (!method.sides.includes(s)) problems.push(`${file}: methods.${name}.sides: ${name} explains only the ${method.sides.join(' and ')} side, not "${s}"`);
    for (const [where, opts] of [[`methods.${name}`, shared], [`methods.${name}.image`, image ?? {}], [`methods.${name}.text`, text ?? {}]] as const) {
      for (const [k, v] of Object.entries(opts)) {
        const values = Array.isArray(v) ? v : [v];
        values.forEach((x, i) => tryCheck(() => checkConfigValues(specs, { [k]: x }, Array.isArray(v) ? `${where}[${i}]` : where)));
      }
    }
    if ((image && !method.sides.includes('image')) || (text && !method.sides.includes('text'))) {
      problems.push(`${file}: methods.${name}: explains only the ${method.sides.join(' and ')} side`);
    }
  }
  if (cfg.compare) tryCheck(() => loadPublished(cfg.compare!, PUBLISHED_DIR));
  for (const [name, params] of Object.entries(cfg.metrics)) {
    const metric = METRICS[name];
    if (!metric) {
      problems.push(`${file}: metrics.${name}: unknown metric; known: ${Object.keys(METRICS).join(', ')}`);
      continue;
    }
    const { methods, ...rest } = params ?? {};
    tryCheck(() => checkConfigValues(metric.params, rest, `metrics.${name}`));
    for (const m of methods ?? []) {
      if (!(m in cfg.methods)) problems.push(`${file}: metrics.${name}.methods: "${m}" is not one of the run's methods (${Object.keys(cfg.methods).join(', ')})`);
    }
  }
  if (problems.length) throw new ConfigError(problems.join('\n'));
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Relative paths of a config, resolved against `base` (see loadConfig for which folder that is). */
function resolvePaths(cfg: BenchConfig, base: string): BenchConfig {
  const r = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const d = cfg.dataset;
  const dataset = ((): BenchConfig['dataset'] => {
    switch (d.kind) {
      case 'mscxr':
        return { ...d, csv: r(d.csv), imageRoot: r(d.imageRoot) };
      case 'cc':
        return { ...d, tsv: r(d.tsv), cacheDir: d.cacheDir ? r(d.cacheDir) : undefined, localRoot: d.localRoot ? r(d.localRoot) : undefined };
      case 'synthetic':
        return { ...d, dir: r(d.dir) };
      default:
        return { ...d, root: r(d.root) };
    }
  })();
  return { ...cfg, model: r(cfg.model), dataset, out: r(cfg.out) };
}

/** Parses and checks a config object; `file` names it in errors, `base` anchors relative paths. */
export function parseConfig(raw: unknown, file: string, base: string): BenchConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatZodError(parsed.error, file));
  checkRegistries(parsed.data, file);
  return resolvePaths(parsed.data, base);
}

export function loadConfig(path: string): BenchConfig {
  if (!existsSync(path)) throw new ConfigError(`config file ${path} does not exist`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${path}: not valid YAML: ${(e as Error).message}`);
  }
  // Relative paths resolve against the folder above configs/ when the config lies in a folder
  // named configs (the repository root for the shipped ones), else against the config's own folder.
  const dir = dirname(resolve(path));
  const base = dir.endsWith('/configs') ? dirname(dir) : dir;
  return parseConfig(raw, path, base);
}

/** What is missing of a config's inputs, each with how to get it: the model, and the data files. */
export function missingInputs(cfg: BenchConfig, file: string): { model: string[]; data: string[] } {
  const model: string[] = [];
  const data: string[] = [];
  if (!existsSync(cfg.model)) {
    model.push(
      `model: ${cfg.model} does not exist. The shipped model is models/synth-clip (pnpm train:tiny rebuilds it); a Hugging Face CLIP folder (config.json, model.safetensors, vocab.json, merges.txt) or an OpenAI/PyTorch checkpoint file works too — see the comments in ${file}.`,
    );
  }
  const d = cfg.dataset;
  if (d.kind === 'mscxr') {
    if (!existsSync(d.csv)) data.push(`dataset.csv: ${d.csv} does not exist. MS-CXR is on PhysioNet (credentialed access): download MS_CXR_Local_Alignment_v1.1.0.csv — see the comments in ${file}.`);
    if (!existsSync(d.imageRoot)) data.push(`dataset.imageRoot: ${d.imageRoot} does not exist. It is the MIMIC-CXR-JPG root (the folder holding files/p10/…), from PhysioNet.`);
  } else if (d.kind === 'cc') {
    if (!existsSync(d.tsv)) data.push(`dataset.tsv: ${d.tsv} does not exist. Download Validation_GCC-1.1.0-Validation.tsv from the Conceptual Captions site, then pnpm data fetch-cc --tsv … --out <cacheDir>.`);
    if (d.cacheDir && !existsSync(d.cacheDir)) data.push(`dataset.cacheDir: ${d.cacheDir} does not exist. Fill it with: pnpm data fetch-cc --tsv ${d.tsv} --out ${d.cacheDir}`);
  } else if (d.kind === 'tiny-imagenet') {
    if (!existsSync(d.root)) data.push(`dataset.root: ${d.root} does not exist. It is the unpacked tiny-imagenet-200 folder (wnids.txt, words.txt, val/) from cs231n.stanford.edu/tiny-imagenet-200.zip — see the comments in ${file}.`);
  } else if (d.kind === 'flickr8k') {
    if (!existsSync(d.root)) data.push(`dataset.root: ${d.root} does not exist. It holds Flickr8k.token.txt, the Flickr_8k.*Images.txt split files and Flicker8k_Dataset/ (Flickr8k_text.zip and Flickr8k_Dataset.zip) — see the comments in ${file}.`);
  }
  return { model, data };
}

/**
 * Stops before any work when the model or the data is missing, saying what is missing and how
 * to get it.
 */
export function checkInputsExist(cfg: BenchConfig, file: string): void {
  const { model, data } = missingInputs(cfg, file);
  const missing = [...model, ...data];
  if (missing.length) throw new ConfigError(`cannot start: ${missing.join('\n')}`);
}
