/** Text helpers shared by the HTML and the terminal table. */

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape a string for HTML text and attribute values (every string read from a file goes through this). */
export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c]);
}

/**
 * A number as the report prints it: 4 significant digits, no exponent for ordinary magnitudes,
 * "—" for a missing value (no sample had one).
 */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** "mean [lo, hi]" */
export function fmtCI(mean: number, lo: number, hi: number): string {
  return `${fmt(mean)} [${fmt(lo)}, ${fmt(hi)}]`;
}

export const arrow = (higherIsBetter: boolean | null | undefined): string =>
  higherIsBetter === true ? '↑' : higherIsBetter === false ? '↓' : '';

/** "layer=9,beta=0.1" -> "layer=9, beta=0.1"; "default" stays. */
export const pointLabel = (p: string): string => p.replace(/,/g, ', ');

/** A number for people: "−" for the minus sign, at most 4 significant digits. */
export const human = (v: unknown): string => (typeof v === 'number' ? fmt(v).replace(/^-/, '−') : String(v));

/** "layer=-3,beta=0.1" -> "layer −3, beta 0.1" (a sweep point for people); "default" stays. */
export const pointTitle = (p: string): string =>
  p === 'default' ? p : p.split(',').map((kv) => {
    const i = kv.indexOf('=');
    return i < 0 ? kv : `${kv.slice(0, i)} ${human(Number.isFinite(Number(kv.slice(i + 1))) ? Number(kv.slice(i + 1)) : kv.slice(i + 1))}`;
  }).join(', ');

/** A method at a point, for people: "m2ib (layer −3, beta 0.1)", or the name alone at "default". */
export const methodTitle = (method: string, point: string): string => (point === 'default' ? method : `${method} (${pointTitle(point)})`);

/**
 * "mean ± half-width" as a paper prints it: the half-width to 2 significant digits and the mean
 * to the same decimal place (4 significant digits when the interval has no width).
 */
export function fmtPm(mean: number, lo: number, hi: number): string {
  if (!Number.isFinite(mean)) return '—';
  const hw = (hi - lo) / 2;
  if (!(hw > 0) || !Number.isFinite(hw)) return `${human(mean)} ± 0`;
  const decimals = Math.max(0, Math.min(8, 1 - Math.floor(Math.log10(hw))));
  const f = (v: number) => (Math.abs(v) >= 1e6 ? v.toExponential(2) : v.toFixed(decimals)).replace(/^-/, '−').replace(/^−(0\.?0*)$/, '$1');
  return `${f(mean)} ± ${f(hw)}`;
}

