// The parity checks on every backend, each in a process of its own (src/perf/backend-parity.ts):
// the fixture CLIP's embeddings against PyTorch and M2IB against the official algorithm. A
// backend that is not available here is skipped, and the test says why (the reason the
// backend gives: a package not installed, no Vulkan driver, …). CEB_PARITY_BACKENDS (a comma
// list) picks the backends, e.g. on a GPU machine: tfjs-node-gpu,webgpu.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../src/perf/backend-parity.ts', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
// wasm runs M2IB on a pool of 2 (the pool against the official numbers); cpu only the embeddings (M2IB there takes ~20 s).
const PLAN: Record<string, string[]> = {
  wasm: ['--threads', '2'],
  'wasm-threads': [],
  cpu: ['--checks', 'embeddings'],
  'tfjs-node': [],
  'tfjs-node-gpu': [],
  webgpu: [],
};
const chosen = process.env.CEB_PARITY_BACKENDS ? process.env.CEB_PARITY_BACKENDS.split(',').map((s) => s.trim()) : Object.keys(PLAN);

describe('backend parity', () => {
  it.for(chosen)('%s: the fixture embeddings and M2IB maps, or a reason why the backend is not here', (backend, ctx) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, '--backend', backend, ...(PLAN[backend] ?? [])], { cwd: BENCH_DIR, encoding: 'utf8', timeout: 180_000 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    expect(line.startsWith('{'), `${backend}: ${r.stderr}`).toBe(true);
    const out = JSON.parse(line) as { available: boolean; reason?: string; pass?: boolean; checks?: Record<string, { maxDiff: number; tol: number; pass: boolean }> };
    if (!out.available) {
      // Unavailable is a skip with its reason, never a pass: the reason must say what is missing.
      expect(out.reason).toMatch(/not installed|Vulkan|adapter|failed/);
      console.warn(`backend parity: skipped ${backend}: ${out.reason}`);
      ctx.skip();
      return;
    }
    for (const [name, c] of Object.entries(out.checks!)) expect(c.maxDiff, `${backend} ${name}`).toBeLessThanOrEqual(c.tol);
    expect(Object.keys(out.checks!).length).toBeGreaterThan(0);
    expect(r.status).toBe(0);
  });
});
