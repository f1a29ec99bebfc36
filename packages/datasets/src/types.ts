import type { Box } from '@ceb/types';

/** Boxes here are in original image pixels: top-left corner (x, y) and size (w, h). */
export type { Box };

export interface ImageSize {
  width: number;
  height: number;
}

/**
 * One image–caption pair. MS-CXR and the synthetic set also carry the boxes of the
 * phrase; boxes are in ORIGINAL image pixels (core maps them through resize + crop).
 */
export interface Sample {
  /** Stable and unique within a data set (used by the bench to resume). */
  id: string;
  /** Absolute path of the image file on this machine. */
  imagePath: string;
  caption: string;
  /**
   * Every candidate caption of the image, in file order, where the data set has several
   * (Flickr8k: five). `caption` is the one in use (the first, until a caller picks another,
   * e.g. with chooseCaptions).
   */
  captions?: string[];
  boxes?: Box[];
  /** Original image size, when the data file states it (MS-CXR) or the release fixes it (Tiny-ImageNet: 64×64). */
  imageSize?: ImageSize;
  category?: string;
  patientId?: string;
  /** The file's own split column (MS-CXR v1.1.0), normalised. */
  split?: SplitName;
  source: {
    file: string;
    /** 1-based row as a spreadsheet shows it (a header, when the file has one, is row 1). */
    row: number;
  };
}

export type SplitName = 'train' | 'val' | 'test';

/**
 * A sample that could not be used, and why. Recorded, never silently dropped. A warning
 * (`severity: 'warning'`) is a problem that made no row unusable: a duplicated row kept
 * once, a class with fewer images than asked for. Absent severity means 'error'.
 */
export interface SampleError {
  id?: string;
  file: string;
  row?: number;
  column?: string;
  reason: string;
  severity?: 'error' | 'warning';
}

export interface LoadResult {
  samples: Sample[];
  errors: SampleError[];
}

/** How much to check images at load time. The bench otherwise checks lazily per sample. */
export type VerifyImages = 'none' | 'exists' | 'decode';

/** Formats a SampleError as one line: `file:row column "c" (sample id): reason`, warnings marked. */
export function formatSampleError(e: SampleError): string {
  const where = e.row !== undefined ? `${e.file}:${e.row}` : e.file;
  const col = e.column ? ` column "${e.column}"` : '';
  const id = e.id ? ` (sample ${e.id})` : '';
  const sev = e.severity === 'warning' ? 'warning: ' : '';
  return `${where}${col}${id}: ${sev}${e.reason}`;
}

/** Whether a SampleError is a warning (the sample was kept) rather than an error. */
export function isWarning(e: SampleError): boolean {
  return e.severity === 'warning';
}
