// The repository's shape, checked (DESIGN.md): the packages that must not load tfjs do not,
// and no function is longer than a screen except the unpickler's one opcode loop.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@ceb/core/testing';

const PACKAGES = join(REPO_ROOT, 'packages');
const TFJS_FREE = ['types', 'random', 'stats', 'datasets', 'results', 'report'];
/** Functions allowed past the limit, with why. */
const LONG_ALLOWED: Record<string, string> = { 'core/src/weights/pickle.ts:unpickle': 'one cohesive loop over the pickle opcodes' };
const MAX_LINES = 80;

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
}

const manifest = (dir: string): Manifest => JSON.parse(readFileSync(join(PACKAGES, dir, 'package.json'), 'utf8'));
const byName = new Map(readdirSync(PACKAGES).map((d) => [manifest(d).name, d]));

/** Every runtime dependency of a package, following workspace packages. */
function closure(dir: string, seen = new Set<string>()): Set<string> {
  for (const dep of Object.keys(manifest(dir).dependencies ?? {})) {
    if (seen.has(dep)) continue;
    seen.add(dep);
    const ws = byName.get(dep);
    if (ws) closure(ws, seen);
  }
  return seen;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** [name, lines] of every function, method and arrow function in a file. */
function functionLengths(file: string): [string, number][] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: [string, number][] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n) || ts.isConstructorDeclaration(n)) {
      const lines = src.getLineAndCharacterOfPosition(n.getEnd()).line - src.getLineAndCharacterOfPosition(n.getStart()).line + 1;
      const named = (n as { name?: ts.Node }).name ?? (ts.isVariableDeclaration(n.parent) || ts.isPropertyAssignment(n.parent) ? n.parent.name : undefined);
      out.push([named ? named.getText(src) : '(anonymous)', lines]);
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out;
}

/** The graph DESIGN.md draws: `name ──► a, b` per line of its Packages block. */
function designGraph(): Map<string, string[]> {
  const text = readFileSync(join(REPO_ROOT, 'DESIGN.md'), 'utf8');
  const block = text.slice(text.indexOf('## Packages'));
  const graph = new Map<string, string[]>();
  for (const m of block.matchAll(/^(\w+)\s+──►\s+([\w, ]+?)\s*(\(|$)/gm)) graph.set(m[1], m[2].split(',').map((x) => x.trim()));
  return graph;
}

describe('the package graph', () => {
  it("is the one DESIGN.md draws (each package's workspace dependencies, exactly)", () => {
    const graph = designGraph();
    for (const dir of readdirSync(PACKAGES)) {
      const deps = Object.keys(manifest(dir).dependencies ?? {}).filter((d) => d.startsWith('@ceb/')).map((d) => d.slice('@ceb/'.length)).sort();
      expect(deps, `packages/${dir}/package.json vs DESIGN.md`).toEqual([...(graph.get(dir) ?? [])].sort());
    }
  });

  it("every package is in the README's layout table and DESIGN.md's package table, and nothing else is", () => {
    const tableOf = (file: string, pattern: RegExp) => [...readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(pattern)].map((m) => m[1]).sort();
    const dirs = readdirSync(PACKAGES).sort();
    expect(tableOf('README.md', /^\| `packages\/([\w-]+)` \|/gm)).toEqual(dirs);
    expect(tableOf('DESIGN.md', /^\| `([\w-]+)` \|/gm)).toEqual(dirs);
  });

  it.each(TFJS_FREE)('%s and everything it depends on stay free of tfjs and of @ceb/core', (dir) => {
    const deps = [...closure(dir)];
    expect(deps.filter((d) => d.startsWith('@tensorflow/') || d === '@ceb/core')).toEqual([]);
    for (const f of sourceFiles(join(PACKAGES, dir, 'src'))) {
      expect(readFileSync(f, 'utf8'), f).not.toMatch(/from ['"](@tensorflow\/|@ceb\/core)/);
    }
  });
});

describe('function length', () => {
  it(`no function in packages/*/src is longer than ${MAX_LINES} lines, except the allowed ones`, () => {
    const long: string[] = [];
    for (const dir of readdirSync(PACKAGES)) {
      for (const f of sourceFiles(join(PACKAGES, dir, 'src'))) {
        for (const [name, lines] of functionLengths(f)) {
          const id = `${dir}/src/${f.slice(join(PACKAGES, dir, 'src').length + 1)}:${name}`;
          if (lines > MAX_LINES && !LONG_ALLOWED[id]) long.push(`${id} (${lines} lines)`);
        }
      }
    }
    expect(long).toEqual([]);
  });
});
