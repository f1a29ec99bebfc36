// Published numbers as data (configs/published/*.yaml): read, checked against the registries
// (every method, option, metric, side, output and unit named in the file must exist and agree),
// and turned into the comparison a run carries in run.json — the published values, what each
// row maps to in this harness, and in words where the run's setting differs from the published one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { checkOptions, type ClipModel, type OptionSpec } from '@ceb/core';
import { METRICS } from '@ceb/eval';
import { METHODS } from '@ceb/methods';
import type { PublishedComparison } from '@ceb/results';
import type { RunPlan } from './plan';

const number = z.number();
const columnSchema = z
  .object({ published: z.string(), metric: z.string().optional(), side: z.enum(['image', 'text']).optional(), output: z.string().optional(), unit: z.string(), note: z.string().optional() })
  .strict();
const rowSchema = z
  .object({
    published: z.string(),
    readmeLine: z.number().int().optional(),
    method: z.string().optional(),
    options: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
    implemented: z.boolean().optional(),
    note: z.string().optional(),
    values: z.record(z.string(), number),
  })
  .strict();
const geometry = z.object({ imageSize: number.optional(), patchSize: number.optional(), hiddenSize: number, numLayers: number }).strict();
export const publishedSchema = z
  .object({
    name: z.string(),
    title: z.string(),
    source: z.object({ repository: z.string(), file: z.string(), commit: z.string(), lines: z.string().optional() }).strict(),
    model: z.object({ name: z.string(), vision: geometry, text: geometry }).strict(),
    protocol: z.string(),
    hardware: z.string(),
    columns: z.record(z.string(), columnSchema),
    datasets: z.record(z.string(), z.object({ name: z.string(), dataset: z.string(), samples: z.union([z.string(), number]), construction: z.string(), rows: z.array(rowSchema).min(1) }).strict()),
  })
  .strict();

export type PublishedTable = z.output<typeof publishedSchema>;

/** The published tables ship with the project: configs/published in the repository. */
export const PUBLISHED_DIR = fileURLToPath(new URL('../../../configs/published', import.meta.url));

/** Every name the file uses must exist in the harness and agree with it; problems name the file and the key path. */
function checkTable(t: PublishedTable, file: string): string[] {
  const problems: string[] = [];
  if (!METRICS[t.protocol]) problems.push(`${file}: protocol: "${t.protocol}" is not a metric of this harness (${Object.keys(METRICS).join(', ')})`);
  for (const [key, c] of Object.entries(t.columns)) {
    const where = `${file}: columns.${key}`;
    if (!c.metric) continue;
    const m = METRICS[c.metric];
    if (!m) {
      problems.push(`${where}.metric: unknown metric "${c.metric}"; known: ${Object.keys(METRICS).join(', ')}`);
      continue;
    }
    if (!c.side || !m.sides.includes(c.side)) problems.push(`${where}.side: ${c.metric} scores the ${m.sides.join(' and ')} side, got ${JSON.stringify(c.side)}`);
    if (!c.output || !(c.output in m.higherIsBetter)) problems.push(`${where}.output: ${c.metric} has outputs ${Object.keys(m.higherIsBetter).join(', ')}, got ${JSON.stringify(c.output)}`);
    else if (m.units?.[c.output] !== c.unit) problems.push(`${where}.unit: "${c.unit}" does not match ${c.metric}.${c.output}, which is in "${m.units?.[c.output] ?? 'no declared unit'}"`);
  }
  for (const [ds, d] of Object.entries(t.datasets)) {
    d.rows.forEach((r, i) => {
      const where = `${file}: datasets.${ds}.rows[${i}] (${r.published})`;
      for (const k of Object.keys(r.values)) if (!(k in t.columns)) problems.push(`${where}.values.${k}: not one of the columns (${Object.keys(t.columns).join(', ')})`);
      if (r.implemented === false) return;
      const method = r.method ? METHODS[r.method] : undefined;
      if (!method) return void problems.push(`${where}.method: ${r.method ? `unknown method "${r.method}"` : 'missing'}; known: ${Object.keys(METHODS).join(', ')} (or implemented: false)`);
      try {
        checkOptions(method.options as Record<string, OptionSpec>, r.options ?? {}, `${where}.options`);
      } catch (e) {
        problems.push((e as Error).message);
      }
    });
  }
  return problems;
}

/** Reads `name/dataset` (e.g. nib-readme/cc) from the published folder; every problem named by file and key. */
export function loadPublished(ref: string, folder: string): { table: PublishedTable; file: string; dataset: string } {
  const m = /^([A-Za-z0-9._-]+)\/([A-Za-z0-9._-]+)$/.exec(ref);
  if (!m) throw new Error(`compare: "${ref}" is not <table>/<data set> (e.g. nib-readme/cc)`);
  const file = join(folder, `${m[1]}.yaml`);
  if (!existsSync(file)) throw new Error(`compare: ${file} does not exist (the published tables are configs/published/*.yaml)`);
  const parsed = publishedSchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${file}: ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n'));
  const problems = checkTable(parsed.data, file);
  if (!parsed.data.datasets[m[2]]) problems.push(`compare: ${file} has no data set "${m[2]}" (it has ${Object.keys(parsed.data.datasets).join(', ')})`);
  if (problems.length) throw new Error(problems.join('\n'));
  return { table: parsed.data, file, dataset: m[2] };
}

/** Where the run's setting differs from the published one, in words. */
function differences(t: PublishedTable, dataset: string, plan: RunPlan, run: { model: ClipModel; datasetKind: string; samples: number }): string[] {
  const out: string[] = [];
  const d = t.datasets[dataset];
  const v = run.model.config.vision;
  const tx = run.model.config.text;
  const same = v.hiddenSize === t.model.vision.hiddenSize && v.numLayers === t.model.vision.numLayers && v.patchSize === t.model.vision.patchSize && tx.hiddenSize === t.model.text.hiddenSize && tx.numLayers === t.model.text.numLayers;
  if (!same) out.push(`model: published ${t.model.name}; this run ${run.model.source.path} (vision ${v.hiddenSize}×${v.numLayers}, patch ${v.patchSize}; text ${tx.hiddenSize}×${tx.numLayers})`);
  if (run.datasetKind !== d.dataset) out.push(`data: published ${d.name} (${d.construction}); this run a ${run.datasetKind} set`);
  out.push(`samples: published ${d.samples}; this run ${run.samples}`);
  if (!plan.pairMetrics.some((m) => m.name === t.protocol)) out.push(`protocol: published with ${t.protocol}, which this run does not compute: the numbers beside it come from no metric`);
  out.push(`hardware of the published numbers: ${t.hardware}`);
  return out;
}

/** The comparison a run carries in run.json. */
export function comparisonFor(ref: string, loaded: ReturnType<typeof loadPublished>, plan: RunPlan, run: { model: ClipModel; datasetKind: string; samples: number }): PublishedComparison {
  const { table: t, dataset } = loaded;
  const d = t.datasets[dataset];
  return {
    ref,
    title: t.title,
    source: t.source,
    dataset: d.name,
    model: t.model.name,
    protocol: t.protocol,
    hardware: t.hardware,
    columns: Object.entries(t.columns).map(([key, c]) => ({ key, ...c })),
    rows: d.rows.map((r) => ({ published: r.published, ...(r.method ? { method: r.method } : {}), ...(r.options ? { options: r.options } : {}), implemented: r.implemented !== false, ...(r.note ? { note: r.note } : {}), values: r.values })),
    differences: differences(t, dataset, plan, run),
  };
}
