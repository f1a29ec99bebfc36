// scripts/gpu-check.sh --short, as CI runs it: on a machine without a GPU it must say
// "no GPU backend found", name why each GPU backend is not here, still measure wasm with a
// thread per core, write its one JSON and exit 0. (On a GPU machine: the backends it found.)
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@ceb/core/testing';

describe('scripts/gpu-check.sh --short', () => {
  it('reports each GPU backend or why it is missing, measures wasm on every core, exits 0 without a GPU', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gpu-check-')), 'gpu-check.json');
    const r = spawnSync('bash', [join(REPO_ROOT, 'scripts/gpu-check.sh'), '--short', '--out', out], { encoding: 'utf8', timeout: 240_000 });
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.backends.map((b: { name: string }) => b.name)).toEqual(['tfjs-node-gpu', 'webgpu']);
    for (const b of result.backends) {
      if (!b.available) expect(b.reason).toMatch(/not installed|Vulkan|adapter/);
      else expect(b.pass, `${b.name} parity`).toBe(true);
    }
    if (!result.gpuBackendFound) {
      expect(r.stdout).toContain('no GPU backend found');
      expect(r.status, r.stderr).toBe(0);
    }
    const wasm = result.perf.wasm;
    expect(wasm.backend).toBe('wasm');
    expect(wasm.threads).toBe(cpus().length);
    expect(wasm.m2ib.pairMs).toBeGreaterThan(0);
    expect(wasm.m2ib.pairMsOneThread).toBeGreaterThan(0);
  });
});
