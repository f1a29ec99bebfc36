// Nemenyi's critical difference for average ranks (Demšar 2006, section 3.2.2).
import { qtukey } from './tukey';
import { checkInteger, checkOpenUnit } from './validate';

/**
 * CD = q_α · sqrt(k(k+1) / (6n)), q_α = qtukey(1 − α, k, ∞) / √2 (Demšar's Table 5a):
 * two of k contenders ranked over n blocks differ significantly when their average ranks
 * differ by at least CD.
 */
export function nemenyiCD(k: number, n: number, alpha = 0.05): number {
  checkInteger('nemenyiCD', 'k', k, 2);
  checkInteger('nemenyiCD', 'n', n, 1);
  checkOpenUnit('nemenyiCD', 'alpha', alpha);
  return (qtukey(1 - alpha, k, Infinity) / Math.SQRT2) * Math.sqrt((k * (k + 1)) / (6 * n));
}
