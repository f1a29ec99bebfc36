// @ceb/stats: the statistics behind "which method is better, and is the difference real?".
export { quantileSorted, median } from './descriptive';
export { averageRanks } from './ranks';
export { pearson, spearman } from './correlation';
export { meanCI, pairedBootstrapCI } from './bootstrap';
export type { MeanCI, BootstrapOptions } from './bootstrap';
export { wilcoxonSignedRank } from './wilcoxon';
export type { WilcoxonOptions, WilcoxonResult, ZeroMethod, WilcoxonMethod } from './wilcoxon';
export { mcnemarExact, mcnemarFromPaired } from './mcnemar';
export type { McNemarResult } from './mcnemar';
export { holm } from './holm';
export { friedman } from './friedman';
export type { FriedmanResult } from './friedman';
export { ptukey, qtukey } from './tukey';
export { nemenyiCD } from './nemenyi';
export { normalCdf, normalSf, chiSquareSf, fSf, binomialCdf } from './distributions';
