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
