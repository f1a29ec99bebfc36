// Method and metric options: checked against the OptionSpec each module declares, so the
// explainers, the metrics, the CLI and configs all report a bad value the same way
// (`<where>.<key>: expected …, got …`).
import type { LayerOption, OptionSpec } from './types';

export type OptionValues = Record<string, number | boolean | string>;

function describeSpec(spec: OptionSpec): string {
  if (spec.choices) return `one of ${spec.choices.join(', ')}`;
  const range = [spec.min !== undefined ? `≥ ${spec.min}` : '', spec.max !== undefined ? `≤ ${spec.max}` : ''].filter(Boolean).join(' and ');
  return `${spec.type === 'integer' ? 'an integer' : `a ${spec.type}`}${range ? ` ${range}` : ''}`;
}

/** Parses a CLI string ("0.1", "true") into the option's type; values from YAML pass through. */
export function coerceOption(spec: OptionSpec, raw: unknown, where: string): number | boolean | string {
  let v = raw;
  if (typeof raw === 'string' && spec.type !== 'string') {
    if (spec.type === 'boolean') {
      if (raw !== 'true' && raw !== 'false') throw new Error(`${where}: expected true or false, got "${raw}"`);
      v = raw === 'true';
    } else {
      v = raw.trim() === '' ? NaN : Number(raw);
    }
  }
  const bad = () => new Error(`${where}: expected ${describeSpec(spec)}, got ${JSON.stringify(raw)}`);
  switch (spec.type) {
    case 'boolean':
      if (typeof v !== 'boolean') throw bad();
      return v;
    case 'string':
      if (typeof v !== 'string' || (spec.choices && !spec.choices.includes(v))) throw bad();
      return v;
    case 'integer':
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v) || (spec.type === 'integer' && !Number.isInteger(v))) throw bad();
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) throw bad();
      return v;
  }
}

/**
 * Checks a set of option values against a module's specs. Unknown keys are errors that list
 * the known ones; `where` is the key path prefix (e.g. `methods.m2ib`).
 */
export function checkOptions(specs: Record<string, OptionSpec>, raw: Record<string, unknown>, where: string): OptionValues {
  const out: OptionValues = {};
  for (const [key, value] of Object.entries(raw)) {
    const spec = specs[key];
    if (!spec) {
      const known = Object.keys(specs);
      throw new Error(`${where}.${key}: unknown option; ${known.length ? `known: ${known.join(', ')}` : 'this takes no options'}`);
    }
    out[key] = coerceOption(spec, value, `${where}.${key}`);
  }
  return out;
}

/** Defaults from the specs, overridden by the given values. */
export function withDefaults(specs: Record<string, OptionSpec>, values: OptionValues): OptionValues {
  const out: OptionValues = {};
  for (const [k, s] of Object.entries(specs)) out[k] = s.default;
  return { ...out, ...values };
}

/** Every option: the given ones checked (undefined means "not given"), the rest at their defaults. */
export function resolveOptions<O>(specs: Record<string, OptionSpec>, given: object | undefined, where: string): O {
  const present = Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined));
  return withDefaults(specs, checkOptions(specs, present, where)) as O;
}

/**
 * A layer option's value → the block index on a tower of `numLayers` blocks: 0…n−1, or
 * negative from the end (−1 = the last block), so one setting means the same depth on towers
 * of any size. Throws naming `where`, the value and what this tower allows.
 */
export function resolveLayer(spec: LayerOption, value: number, numLayers: number, where: string, tower = 'the'): number {
  const k = value < 0 ? numLayers + value : value;
  const towerName = tower === 'the' ? 'the tower' : `the ${tower} tower`;
  if (!Number.isInteger(k) || k < 0 || k >= numLayers) {
    throw new Error(`${where} ${value} is outside ${towerName}'s blocks 0…${numLayers - 1} (or −1…−${numLayers} from the end)`);
  }
  const refused = spec.refuseLast?.blocks ?? 0;
  if (refused > 0 && k >= numLayers - refused) {
    const which = refused === 1 ? 'last block' : `block ${k}, one of its last ${refused} blocks`;
    const allowed = numLayers - refused > 0 ? `Choose a block in 0…${numLayers - refused - 1}` : `This tower has no block it can use`;
    throw new Error(`${where} ${value} is ${towerName}'s ${which}; ${spec.refuseLast!.why}. ${allowed}`);
  }
  return k;
}
