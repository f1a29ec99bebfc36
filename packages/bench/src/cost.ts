// The cost model of `--dry-run`: the timings `pnpm bench:perf --out FILE` measured (its --json
// output) at one geometry on one backend, scaled by FLOPs to the model's geometry — per block
// ≈ tokens × width², over the blocks after the layer for a method with a layer option (each
// step runs only those) and over the whole tower otherwise — and linearly in the counts the
// perf file names (masks, samples, steps, copies). An estimate of the explanations only:
// metrics and dataset metrics are not in the perf file.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolveLayer, type OptionSpec, type OptionValues } from '@ceb/core';
import type { Side } from '@ceb/types';
import type { ModelGeometry } from './geometry';
import type { PlanUnit } from './plan';

/** Where `pnpm bench:perf --out` writes by default, per backend. */
export const PERF_DIR = fileURLToPath(new URL('../../../docs/perf/', import.meta.url));
export const defaultPerfFile = (backend: string): string => `${PERF_DIR}${backend}.json`;

interface Tower {
  numLayers: number;
  hiddenSize: number;
  tokens: number;
}

/** A measured method: its time per pair (both sides), and the counts it was measured at. */
interface MeasuredMethod {
  pairMs: number;
  counts: Record<string, number>;
  row: string;
}

export interface CostModel {
  file: string;
  backend: string;
  machine: string;
  /** Threads per process the file was measured at (absent in files written before bench:perf had --threads). */
  threads?: number;
  measured: { vision: Tower; text: Tower };
  forwardMs: { image: number; text: number };
  prefixMs: number;
  m2ib?: { image: number; text: number; settings: Record<string, number> };
  methods: Map<string, MeasuredMethod>;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A number at a dotted path, or an error naming the file and the field. */
function num(file: string, root: Record<string, unknown>, path: string): number {
  const v = path.split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), root);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${file}: field "${path}" is missing or not a number (expected the JSON of pnpm bench:perf --out FILE)`);
  return v;
}

/** "vision 768×12, text 512×12, 50 vision tokens" (bench:perf's words), or an object with the same numbers. */
function measuredGeometry(file: string, g: unknown): { vision: Tower; text: Tower } {
  if (isObj(g)) {
    const t = (k: 'vision' | 'text', tokens: number): Tower => ({ numLayers: num(file, g, `${k}.numLayers`), hiddenSize: num(file, g, `${k}.hiddenSize`), tokens: typeof (g[k] as Record<string, unknown>)?.tokens === 'number' ? ((g[k] as Record<string, number>).tokens) : tokens });
    return { vision: t('vision', 50), text: t('text', 12) };
  }
  const s = String(g ?? '');
  const v = /vision (\d+)\s*[×x]\s*(\d+)/.exec(s);
  const t = /text (\d+)\s*[×x]\s*(\d+)/.exec(s);
  const tokens = /(\d+) vision tokens/.exec(s);
  if (!v || !t || !tokens) throw new Error(`${file}: field "geometry" (${JSON.stringify(g)}) does not say "vision W×L, text W×L, N vision tokens"`);
  // bench:perf measures with a 12-token caption (its m2ib settings say so).
  return { vision: { hiddenSize: +v[1], numLayers: +v[2], tokens: +tokens[1] }, text: { hiddenSize: +t[1], numLayers: +t[2], tokens: 12 } };
}

/** "layer 9, 10 steps, 10 copies" → { layer: 9, steps: 10, copies: 10 }. */
function settingsOf(s: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of s.matchAll(/\b([a-zA-Z]+)\s+(-?\d+)\b/g)) out[m[1]] = Number(m[2]);
  for (const m of s.matchAll(/\b(\d+)\s+([a-zA-Z]+)\b/g)) out[m[2]] = Number(m[1]);
  return out;
}

/** "rise (masks=100, textMasks=100)" → rise, its counts; a measured row wins over an estimated one. */
function methodRows(methods: unknown): Map<string, MeasuredMethod> {
  const out = new Map<string, MeasuredMethod>();
  if (!isObj(methods)) return out;
  for (const [row, v] of Object.entries(methods)) {
    if (!isObj(v) || typeof v.pairMs !== 'number') continue;
    const m = /^([^\s(]+)(?:\s*\((.*)\))?$/.exec(row.trim());
    if (!m) continue;
    const counts: Record<string, number> = {};
    for (const c of (m[2] ?? '').matchAll(/(\w+)=(\d+)/g)) counts[c[1]] = Number(c[2]);
    const estimated = /estimated/.test(m[2] ?? '');
    if (!out.has(m[1]) || !estimated) out.set(m[1], { pairMs: v.pairMs, counts, row });
  }
  return out;
}

/** Reads a bench:perf JSON file, checking every field the estimate uses. */
export function readCostModel(file: string): CostModel {
  if (!existsSync(file)) throw new Error(`${file} does not exist: write it with pnpm bench:perf --out ${file} on the machine and backend the run will use`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!isObj(raw)) throw new Error(`${file}: expected a JSON object (the output of pnpm bench:perf --json)`);
  if (typeof raw.backend !== 'string') throw new Error(`${file}: field "backend" is missing or not a string`);
  const m2ib = isObj(raw.m2ib) ? raw.m2ib : undefined;
  const machine = isObj(raw.machine) ? `${raw.machine.cpu ?? '?'} × ${raw.machine.cpus ?? '?'}` : 'unknown machine';
  return {
    file,
    backend: raw.backend,
    machine,
    ...(typeof raw.threads === 'number' ? { threads: raw.threads } : {}),
    measured: measuredGeometry(file, raw.geometry),
    forwardMs: { image: num(file, raw, 'model.imageForwardB1Ms'), text: num(file, raw, 'model.textForwardB1Ms') },
    prefixMs: m2ib ? num(file, raw, 'm2ib.prefixMs') : num(file, raw, 'model.imageForwardB1Ms') + num(file, raw, 'model.textForwardB1Ms'),
    ...(m2ib ? { m2ib: { image: num(file, raw, 'm2ib.imageMapMs'), text: num(file, raw, 'm2ib.textMapMs'), settings: settingsOf(String(m2ib.settings ?? '')) } } : {}),
    methods: methodRows(raw.methods),
  };
}

const blockFlops = (t: Tower): number => t.tokens * t.hiddenSize * t.hiddenSize;

/** Blocks a method with a layer option runs per step: those after the layer (at least one). */
function blocksFrom(spec: OptionSpec, value: number, numLayers: number): number {
  const k = resolveLayer(spec.layer!, value, numLayers, 'layer');
  return Math.max(1, spec.layer!.of === 'output' ? numLayers - k - 1 : numLayers - k);
}

/** The model's towers as FLOP-scaling sees them (text tokens: the measured caption length). */
function modelTowers(g: ModelGeometry, c: CostModel): { vision: Tower; text: Tower } {
  return { vision: { ...g.vision }, text: { numLayers: g.text.numLayers, hiddenSize: g.text.hiddenSize, tokens: c.measured.text.tokens } };
}

/** FLOP ratio model / measured for one side of a unit: over the blocks after its layer option, or the whole tower. */
function flopRatio(c: CostModel, g: ModelGeometry, side: Side, specs: Record<string, OptionSpec>, options: OptionValues, measuredLayer?: number): number {
  const k = side === 'image' ? 'vision' : 'text';
  const model = modelTowers(g, c)[k];
  const meas = c.measured[k];
  const layerKey = Object.keys(specs).find((o) => specs[o].layer);
  if (!layerKey) return (model.numLayers * blockFlops(model)) / (meas.numLayers * blockFlops(meas));
  const spec = specs[layerKey];
  const now = blocksFrom(spec, options[layerKey] as number, model.numLayers);
  const then = blocksFrom(spec, measuredLayer ?? (spec.default as number), meas.numLayers);
  return (now * blockFlops(model)) / (then * blockFlops(meas));
}

/** Counts that apply to a side: text-prefixed ones (textMasks) to the text side only, when it has any. */
function countsFor(side: Side, counts: Record<string, number>): string[] {
  const names = Object.keys(counts);
  const text = names.filter((n) => /^text[A-Z]/.test(n));
  return side === 'text' && text.length ? text : names.filter((n) => !text.includes(n));
}

const countRatio = (names: string[], counts: Record<string, number>, options: OptionValues): number =>
  names.reduce((r, n) => (typeof options[n] === 'number' ? (r * (options[n] as number)) / counts[n] : r), 1);

export interface UnitEstimate {
  /** Milliseconds per explanation, or undefined when the perf file has no timing for the method. */
  ms?: number;
  /** How it was obtained, in words. */
  how: string;
}

/** The estimated time of one explanation of a unit on the model (none for a unit the plan check refuses). */
export function estimateUnit(c: CostModel, g: ModelGeometry, u: PlanUnit): UnitEstimate {
  try {
    return scaledEstimate(c, g, u);
  } catch {
    return { how: 'refused by the plan check' };
  }
}

function scaledEstimate(c: CostModel, g: ModelGeometry, u: PlanUnit): UnitEstimate {
  const specs = u.explainer.options as Record<string, OptionSpec>;
  const o = u.point.options;
  if (u.method === 'm2ib' && c.m2ib) {
    const s = c.m2ib.settings;
    const names = ['steps', 'copies'].filter((n) => s[n] !== undefined);
    const ms = c.m2ib[u.side] * flopRatio(c, g, u.side, specs, o, s.layer) * countRatio(names, s, o);
    return { ms, how: `m2ib.${u.side}MapMs scaled` };
  }
  const row = c.methods.get(u.method);
  if (!row) return { how: `no timing for ${u.method} in ${c.file}` };
  // The row is both sides together: each side's share by its tower's forward time × its counts.
  const share = (side: Side) => (u.explainer.sides.includes(side) ? countsFor(side, row.counts).reduce((p, n) => p * row.counts[n], c.forwardMs[side]) : 0);
  const part = share(u.side) / (share('image') + share('text'));
  const ms = row.pairMs * part * flopRatio(c, g, u.side, specs, o) * countRatio(countsFor(u.side, row.counts), row.counts, o);
  return { ms, how: `"${row.row}" (${Math.round(part * 100)}% of it for the ${u.side} side) scaled` };
}

/** The once-per-pair prefix (every hidden state of both towers), scaled by whole-model FLOPs. */
export function estimatePrefix(c: CostModel, g: ModelGeometry): number {
  const m = modelTowers(g, c);
  const whole = (t: { vision: Tower; text: Tower }) => t.vision.numLayers * blockFlops(t.vision) + t.text.numLayers * blockFlops(t.text);
  return (c.prefixMs * whole(m)) / whole(c.measured);
}

/** The scaling in words, for the printout. */
export function describeScaling(c: CostModel, g: ModelGeometry): string {
  const m = modelTowers(g, c);
  const t = (x: Tower) => `${x.hiddenSize}×${x.numLayers}, ${x.tokens} tokens`;
  return (
    `measured at vision ${t(c.measured.vision)} / text ${t(c.measured.text)} on ${c.backend} (${c.machine}${c.threads ? `, ${c.threads} thread(s) per process` : ''}); this model: vision ${t(m.vision)} / text ${t(m.text)}. ` +
    `Scaled by FLOPs (blocks × tokens × width²: the blocks after the layer for a method with a layer option, the whole tower otherwise) and linearly in the counts the file names (masks, samples, steps, copies). Explanations only: metric time is not in the file.`
  );
}
