// @ceb/types: the vocabulary every package shares, defined once. No dependencies, no tfjs.

/** The side of an image–text pair that an explanation is about. */
export type Side = 'image' | 'text';

export const SIDES: readonly Side[] = ['image', 'text'];

/** Axis-aligned box: top-left corner (x, y) and size (w, h), in pixels of the image it belongs to. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** An 8-bit RGB image, row-major HWC: pixel (x, y) channel c is data[(y * width + x) * 3 + c]. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Throws unless `img` is a well-formed RgbImage (positive integer size, data of length w*h*3). */
export function assertRgbImage(img: RgbImage, what = 'image'): void {
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width <= 0 || img.height <= 0) {
    throw new RangeError(`${what}: width and height must be positive integers, got ${img.width}x${img.height}`);
  }
  const expected = img.width * img.height * 3;
  if (!(img.data instanceof Uint8Array) || img.data.length !== expected) {
    throw new RangeError(
      `${what}: data must be a Uint8Array of width*height*3 = ${expected} bytes (HWC RGB), got ${
        img.data instanceof Uint8Array ? img.data.length : typeof img.data
      }`,
    );
  }
}
