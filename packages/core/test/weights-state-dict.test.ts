/** readStateDict picks the reader from the file's bytes, whatever the extension says. */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStateDict } from '../src/weights/state-dict';
import { CLIP_DIR } from './helpers/weights-fixtures';
import { torchZip } from './helpers/weights-pickle-writer';

const tmp = mkdtempSync(join(tmpdir(), 'weights-sd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readStateDict', () => {
  it('reads a safetensors file even when it is named .bin', async () => {
    const p = join(tmp, 'pytorch_model.bin');
    copyFileSync(join(CLIP_DIR, 'model.safetensors'), p);
    const sd = await readStateDict(p);
    expect(sd.format).toBe('safetensors');
    expect(sd.tensors.get('visual_projection.weight')?.dtype).toBe('F32');
    expect(sd.metadata).toBeTypeOf('object');
  });

  it('reads a torch.save zip even when it is named .safetensors', async () => {
    const p = join(tmp, 'model.safetensors');
    copyFileSync(join(CLIP_DIR, 'openai_state_dict.pt'), p);
    const sd = await readStateDict(p);
    expect(sd.format).toBe('pytorch');
    expect(sd.tensors.get('visual.proj')?.shape.length).toBe(2);
    expect(sd.metadata).toBeUndefined();
  });

  it('reads a hand-built checkpoint with no extension', async () => {
    const p = join(tmp, 'ckpt');
    const s = { key: '0', type: 'FloatStorage', numel: 1, bytes: new Uint8Array(Float32Array.from([4]).buffer) };
    writeFileSync(p, torchZip({ odict: [['w', { tensor: { storage: s, offset: 0, size: [], stride: [] } }]] }));
    const sd = await readStateDict(p);
    expect(sd.format).toBe('pytorch');
    expect(Array.from(sd.tensors.get('w')!.data as Float32Array)).toEqual([4]);
  });

  it('is not fooled by a safetensors header length whose first byte looks like a pickle PROTO opcode', async () => {
    // Header length 640 = 0x280: bytes 80 02 00 ..., the same first two bytes as a protocol-2 pickle.
    const json = '{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'.padEnd(640, ' ');
    const b = new Uint8Array(8 + 640 + 1);
    new DataView(b.buffer).setBigUint64(0, 640n, true);
    b.set(new TextEncoder().encode(json), 8);
    b[8 + 640] = 42;
    expect([b[0], b[1]]).toEqual([0x80, 0x02]);
    const p = join(tmp, 'w.pt');
    writeFileSync(p, b);
    const sd = await readStateDict(p);
    expect(sd.format).toBe('safetensors');
    expect(Array.from(sd.tensors.get('w')!.data as Uint8Array)).toEqual([42]);
  });

  it('names the file and the expected formats for anything else', async () => {
    const p = join(tmp, 'weights.pt');
    writeFileSync(p, 'version https://git-lfs.github.com/spec/v1\n');
    await expect(readStateDict(p)).rejects.toThrow(/weights\.pt: unknown weight file format \(first bytes 76 65 72 73 69 6f 6e 20\); expected safetensors/);
    const e = join(tmp, 'empty.safetensors');
    writeFileSync(e, '');
    await expect(readStateDict(e)).rejects.toThrow(/empty\.safetensors: unknown weight file format \(first bytes \(empty file\)\)/);
  });
});
