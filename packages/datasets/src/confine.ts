import { isAbsolute, relative, resolve, sep } from 'node:path';

export type Confined = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Resolves a path read from a data file against `root` and refuses what would leave it:
 * absolute paths (POSIX `/…`, Windows `C:\…`, `\\server\…`) and relative paths whose `..`
 * segments climb out of `root`. A `..` that stays inside (`files/a/../b.jpg`) is fine.
 * The check is on the path as written (lexical): a symbolic link inside the root is
 * followed like any file, so a tree assembled from links keeps working.
 * `what` names the root in the reason ("the image root", "the local root").
 */
export function resolveInside(root: string, path: string, what = 'the image root'): Confined {
  const base = resolve(root);
  if (path === '') return { ok: false, reason: 'empty path' };
  if (isAbsolute(path) || /^[a-zA-Z]:/.test(path) || path.startsWith('\\')) {
    return { ok: false, reason: `absolute path "${path}" is not allowed: expected a path relative to ${what} (${base})` };
  }
  const abs = resolve(base, path);
  const rel = relative(base, abs);
  if (rel === '') return { ok: false, reason: `path "${path}" is ${what} itself, not a file in it (${base})` };
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    return { ok: false, reason: `path "${path}" resolves to ${abs}, outside ${what} (${base})` };
  }
  return { ok: true, path: abs };
}
