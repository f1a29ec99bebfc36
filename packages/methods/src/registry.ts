// Every method under one name, for configs and the CLI (`explain --method NAME`,
// `explain --list-methods`).
import { checkOptions, type Explainer, type OptionSpec } from '@ceb/core';
import type { Side } from '@ceb/types';
import { chefer } from './chefer';
import { random, sobel, uniform } from './controls';
import { gradcam, gradcamElementwise } from './gradcam';
import { kernelshap } from './kernelshap';
import { m2ib } from './m2ib';
import { occlusion } from './occlusion';
import { rise } from './rise';
import { rollout } from './rollout';
import { saliency } from './saliency';
import { attentionSaliency } from './attention-saliency';
import { fastig } from './fastig';
import { gradEclip } from './grad-eclip';
import { ig } from './ig';
import { legrad } from './legrad';
import { mfaba } from './mfaba';
import { nib } from './nib';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyExplainer = Explainer<any>;

export const METHODS: Readonly<Record<string, AnyExplainer>> = Object.freeze({
  m2ib,
  gradcam,
  'gradcam-elementwise': gradcamElementwise,
  saliency,
  rise,
  occlusion,
  kernelshap,
  rollout,
  chefer,
  ig,
  nib,
  fastig,
  mfaba,
  'attention-saliency': attentionSaliency,
  'grad-eclip': gradEclip,
  legrad,
  random,
  sobel,
  uniform,
});

export const METHOD_NAMES: readonly string[] = Object.keys(METHODS);

export function getMethod(name: string): AnyExplainer {
  const m = Object.prototype.hasOwnProperty.call(METHODS, name) ? METHODS[name] : undefined;
  if (!m) throw new Error(`unknown method "${name}"; known methods: ${METHOD_NAMES.join(', ')}`);
  return m;
}

export interface MethodInfo {
  name: string;
  description: string;
  sides: readonly Side[];
  options: (OptionSpec & { name: string })[];
}

export function listMethods(): MethodInfo[] {
  return METHOD_NAMES.map((name) => {
    const m = METHODS[name];
    return {
      name,
      description: m.description,
      sides: m.sides,
      options: Object.entries(m.options as Record<string, OptionSpec>).map(([k, s]) => ({ name: k, ...s })),
    };
  });
}

/** The text `explain --list-methods` prints. */
export function formatMethodList(): string {
  const lines: string[] = [];
  for (const m of listMethods()) {
    lines.push(`${m.name}  [${m.sides.join(', ')}]`, `  ${m.description}`);
    for (const o of m.options) {
      const range = o.choices ? ` one of ${o.choices.join('|')}` : o.min !== undefined || o.max !== undefined ? ` in [${o.min ?? '−∞'}, ${o.max ?? '∞'}]` : '';
      lines.push(`    --${o.name} (${o.type}${range}, default ${JSON.stringify(o.default)}): ${o.description}`);
    }
    if (!m.options.length) lines.push('    (no options)');
  }
  return lines.join('\n');
}

/**
 * Checks options for a method and converts CLI strings ("32", "true") to the declared type.
 * Unknown names and out-of-range values are errors naming the method and the option.
 */
export function parseMethodOptions(name: string, raw: Record<string, unknown>): Record<string, unknown> {
  return checkOptions(getMethod(name).options as Record<string, OptionSpec>, raw, name);
}
