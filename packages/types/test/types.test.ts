import { describe, expect, it } from 'vitest';
import { assertRgbImage } from '../src/index';

describe('assertRgbImage', () => {
  it('accepts a well-formed image and names what is wrong otherwise', () => {
    expect(() => assertRgbImage({ width: 2, height: 1, data: new Uint8Array(6) })).not.toThrow();
    expect(() => assertRgbImage({ width: 0, height: 1, data: new Uint8Array(0) }, 'input')).toThrow(/input: width and height must be positive integers, got 0x1/);
    expect(() => assertRgbImage({ width: 2, height: 2, data: new Uint8Array(6) })).toThrow(/width\*height\*3 = 12 bytes .* got 6/);
  });
});
