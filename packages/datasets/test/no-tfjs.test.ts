import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('@ceb/datasets stays free of tfjs', () => {
  it('declares no tfjs (or core) dependency and imports none', async () => {
    const json = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8'));
    const deps = Object.keys({ ...json.dependencies, ...json.devDependencies, ...json.peerDependencies });
    expect(deps.filter((d) => d.includes('tensorflow') || d === '@ceb/core')).toEqual([]);
    for (const f of await readdir(join(pkg, 'src'))) {
      const text = await readFile(join(pkg, 'src', f), 'utf8');
      expect(text, f).not.toMatch(/from ['"](@tensorflow\/|@ceb\/core)/);
    }
  });
});
