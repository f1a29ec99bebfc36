import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, describeBackend, hasVulkanLoader } from '../src/backend';

describe('initBackend', () => {
  it('wasm is available offline and is reported', async () => {
    const info = await initBackend('wasm');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(describeBackend(info)).toMatch(/^wasm/);
  });

  it('auto takes the best present backend and says why it skipped the others', async () => {
    const info = await initBackend('auto');
    expect(['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm']).toContain(info.name);
    for (const s of info.skipped) expect(s.reason).toMatch(/not installed|failed|Vulkan|adapter/);
  });

  it('webgpu without a GPU is an error that names what it needs', async () => {
    // Only where this machine has no Vulkan loader (no GPU for Dawn): the common CI case.
    if (hasVulkanLoader()) return;
    await expect(initBackend('webgpu')).rejects.toThrow(/backend "webgpu" is not available: no Vulkan loader .*Vulkan driver/);
    expect((await initBackend('auto')).skipped.map((s) => s.name)).toContain('webgpu');
  });

  it('the threaded wasm build cannot follow the plain one in the same process', async () => {
    await initBackend('wasm');
    await expect(initBackend('wasm-threads')).rejects.toThrow(/wasm-threads cannot start after wasm in the same process/);
  });

  it('a native backend that is not installed is a clear error, not a crash', async () => {
    let installed = true;
    try {
      await import(/* @vite-ignore */ ['@tensorflow', 'tfjs-node'].join('/'));
    } catch {
      installed = false;
    }
    if (installed) return;
    await expect(initBackend('tfjs-node')).rejects.toThrow(/tfjs-node is not installed.*pnpm add/);
    await initBackend('wasm');
  });

  it('an unknown name lists the known ones', async () => {
    await expect(initBackend('gpu' as never)).rejects.toThrow(/expected one of auto, wasm, cpu, tfjs-node, tfjs-node-gpu, webgpu, wasm-threads/);
  });
});
