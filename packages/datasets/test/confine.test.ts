import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveInside } from '../src/confine';
import { formatSampleError } from '../src/types';

describe('resolveInside', () => {
  const root = resolve('/data/root');
  it('accepts relative paths that stay inside, including a ".." that comes back', () => {
    expect(resolveInside(root, 'files/a.jpg')).toEqual({ ok: true, path: join(root, 'files/a.jpg') });
    expect(resolveInside(root, 'files/x/../a.jpg')).toEqual({ ok: true, path: join(root, 'files/a.jpg') });
    expect(resolveInside(root, '..name.jpg')).toEqual({ ok: true, path: join(root, '..name.jpg') });
  });
  it('refuses absolute paths, escapes and the root itself, saying why', () => {
    expect(resolveInside(root, '/etc/passwd')).toEqual({
      ok: false,
      reason: `absolute path "/etc/passwd" is not allowed: expected a path relative to the image root (${root})`,
    });
    expect(resolveInside(root, 'C:\\data\\a.jpg', 'the local root').ok).toBe(false);
    expect(resolveInside(root, '\\\\server\\share\\a.jpg').ok).toBe(false);
    expect(resolveInside(root, '../other/a.jpg')).toEqual({
      ok: false,
      reason: `path "../other/a.jpg" resolves to ${resolve('/data/other/a.jpg')}, outside the image root (${root})`,
    });
    expect(resolveInside(root, 'files/../../a.jpg').ok).toBe(false);
    expect(resolveInside(root, '..').ok).toBe(false);
    expect(resolveInside(root, '.')).toMatchObject({ ok: false, reason: expect.stringMatching(/is the image root itself/) });
    expect(resolveInside(root, '')).toEqual({ ok: false, reason: 'empty path' });
  });
});

describe('formatSampleError', () => {
  it('names file, row, column and sample, and marks warnings', () => {
    expect(formatSampleError({ file: 'a.csv', row: 3, column: 'path', id: 's1', reason: 'bad' })).toBe('a.csv:3 column "path" (sample s1): bad');
    expect(formatSampleError({ file: 'a.csv', row: 4, reason: 'duplicate', severity: 'warning' })).toBe('a.csv:4: warning: duplicate');
  });
});
