/** A box in original image pixels: top-left corner (x, y) and size (w, h). */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

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
  boxes?: Box[];
  /** Original image size, when the data file states it (MS-CXR). */
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

/** A sample that could not be used, and why. Recorded, never silently dropped. */
export interface SampleError {
  id?: string;
  file: string;
  row?: number;
  column?: string;
  reason: string;
}

export interface LoadResult {
  samples: Sample[];
  errors: SampleError[];
}

/** How much to check images at load time. The bench otherwise checks lazily per sample. */
export type VerifyImages = 'none' | 'exists' | 'decode';

/** Formats a SampleError as one line: `file:row [column]: reason`. */
export function formatSampleError(e: SampleError): string {
  const where = e.row !== undefined ? `${e.file}:${e.row}` : e.file;
  const col = e.column ? ` column "${e.column}"` : '';
  const id = e.id ? ` (sample ${e.id})` : '';
  return `${where}${col}${id}: ${e.reason}`;
}
