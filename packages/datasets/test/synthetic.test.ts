import { createHash } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@ceb/random';
import { loadConceptualCaptions } from '../src/cc';
import { createDataCommand } from '../src/cli';
import { loadMsCxr } from '../src/mscxr';
import {
  SYNTHETIC_COLORS,
  SYNTHETIC_COLOR_NAMES,
  SYNTHETIC_SHAPES,
  allCaptions,
  generateSyntheticSet,
  renderSyntheticScene,
  type SyntheticSet,
} from '../src/synthetic';
import { useTempDir } from './helpers';

// Area of each shape relative to its tight box, worked out by hand:
// square 1; circle π/4; triangle and diamond 1/2; cross 1 − 4·(1/3)² = 5/9;
// star (R = 0.5, r = 0.2): 5·R·r·sin 36° = 0.2939 over a box 2R·cos 18° × R(1 + cos 36°) = 0.951 × 0.9045.
const FILL: Record<string, number> = {
  square: 1,
  circle: Math.PI / 4,
  triangle: 0.5,
  diamond: 0.5,
  cross: 5 / 9,
  star: (5 * 0.5 * 0.2 * Math.sin(Math.PI / 5)) / (2 * 0.5 * Math.cos(Math.PI / 10) * 0.5 * (1 + Math.cos(Math.PI / 5))),
};

async function pixels(file: string) {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

describe('generateSyntheticSet', () => {
  const dir = useTempDir('synth');
  let set: SyntheticSet;
  beforeAll(async () => {
    set = await generateSyntheticSet({ outDir: join(dir, 'a'), count: 40, seed: 7 });
  });

  it('offers at least 50 distinct captions', () => {
    const caps = allCaptions();
    expect(new Set(caps).size).toBe(caps.length);
    expect(caps.length).toBeGreaterThanOrEqual(50);
    expect(caps).toContain('a red circle');
    expect(caps).toContain('an orange star');
  });

  it('is seeded: same seed same bytes, another seed other images', async () => {
    const again = await generateSyntheticSet({ outDir: join(dir, 'b'), count: 3, seed: 7 });
    const other = await generateSyntheticSet({ outDir: join(dir, 'c'), count: 3, seed: 8, layouts: ['cc'] });
    for (let i = 0; i < 3; i++) {
      const x = await readFile(join(set.outDir, set.images[i].path));
      expect(x.equals(await readFile(join(again.outDir, again.images[i].path)))).toBe(true);
      expect(x.equals(await readFile(join(other.outDir, other.images[i].path)))).toBe(false);
    }
    expect(other.mscxrCsv).toBeUndefined();
  });

  it('draws what each caption says, inside the stated box, and nothing else of that kind', async () => {
    const csv = (await readFile(set.mscxrCsv!, 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('dicom_id,category_name,label_text,path,x,y,w,h,image_width,image_height,split');
    expect(csv).toHaveLength(41);
    let sharedColour = 0;
    let sharedShape = 0;
    for (const line of csv.slice(1)) {
      const [id, category, caption, path, ...rest] = line.split(',');
      const [x, y, w, h, iw, ih] = rest.slice(0, 6).map(Number);
      const m = /^an? (\w+) (\w+)$/.exec(caption);
      expect(m, caption).not.toBeNull();
      const [, colour, shape] = m!;
      expect(category).toBe(shape);
      expect([iw, ih]).toEqual([224, 224]);
      const img = await pixels(join(set.outDir, path));
      expect([img.width, img.height, img.channels]).toEqual([224, 224, 3]);
      const rgb = SYNTHETIC_COLORS[colour as keyof typeof SYNTHETIC_COLORS];
      const is = (px: number, py: number) => {
        const o = (py * 224 + px) * 3;
        return img.data[o] === rgb[0] && img.data[o + 1] === rgb[1] && img.data[o + 2] === rgb[2];
      };
      // Tight box: painted pixels of that colour within a 3-px margin span exactly the box.
      let minX = 999, minY = 999, maxX = -1, maxY = -1, inBox = 0;
      for (let py = Math.max(0, y - 3); py < Math.min(224, y + h + 3); py++) {
        for (let px = Math.max(0, x - 3); px < Math.min(224, x + w + 3); px++) {
          if (!is(px, py)) continue;
          minX = Math.min(minX, px); maxX = Math.max(maxX, px);
          minY = Math.min(minY, py); maxY = Math.max(maxY, py);
          inBox++;
        }
      }
      expect([minX, minY, maxX - minX + 1, maxY - minY + 1], `${id} ${caption}`).toEqual([x, y, w, h]);
      // The pixels form the named shape: its fill of the box.
      expect(Math.abs(inBox / (w * h) - FILL[shape]), `${id} ${caption}`).toBeLessThan(0.06);
      if (shape === 'triangle') {
        let bottom = 0, top = 0;
        for (let px = x; px < x + w; px++) { bottom += +is(px, y + h - 1); top += +is(px, y); }
        expect(bottom).toBeGreaterThan(0.9 * w);
        expect(top).toBeLessThan(0.2 * w);
      }
      if (shape === 'diamond' || shape === 'cross') {
        expect(is(x, y) || is(x + w - 1, y + h - 1), `${id} corners are background`).toBe(false);
      }

      // The manifest's other shapes: none is the same colour AND shape; one shares one of them.
      const im = set.images.find((i) => i.id === id)!;
      expect(im.shapes.length).toBeGreaterThanOrEqual(2);
      expect(im.shapes.length).toBeLessThanOrEqual(4);
      const others = im.shapes.filter((_, i) => i !== im.target);
      expect(others.some((o) => o.color === colour && o.shape === shape)).toBe(false);
      expect(others.some((o) => o.color === colour || o.shape === shape)).toBe(true);
      if (others.some((o) => o.color === colour)) sharedColour++;
      if (others.some((o) => o.shape === shape)) sharedShape++;
      // ...and the image holds no target-coloured pixel outside the listed shapes' boxes.
      const sameColourBoxes = im.shapes.filter((o) => o.color === colour).map((o) => o.box);
      for (let py = 0; py < 224; py++) {
        for (let px = 0; px < 224; px++) {
          if (!is(px, py)) continue;
          const covered = sameColourBoxes.some((b) => px >= b.x && px < b.x + b.w && py >= b.y && py < b.y + b.h);
          if (!covered) expect.fail(`${id}: stray ${colour} pixel at ${px},${py}`);
        }
      }
      // Boxes of one image do not overlap.
      for (let i = 0; i < im.shapes.length; i++) {
        for (let j = i + 1; j < im.shapes.length; j++) {
          const a = im.shapes[i].box, b = im.shapes[j].box;
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap).toBe(false);
        }
      }
    }
    // Both kinds of distractor occur.
    expect(sharedColour).toBeGreaterThan(0);
    expect(sharedShape).toBeGreaterThan(0);
  });

  it('is read by the MS-CXR loader (patients with several images, split by patient) and the CC loader', async () => {
    const m = await loadMsCxr({ csv: set.mscxrCsv!, imageRoot: set.outDir, verifyImages: 'decode' });
    expect(m.errors).toEqual([]);
    expect(m.samples).toHaveLength(40);
    const perPatient = new Map<string, number>();
    for (const s of m.samples) perPatient.set(s.patientId!, (perPatient.get(s.patientId!) ?? 0) + 1);
    expect(Math.max(...perPatient.values())).toBeGreaterThan(1);
    const trainP = new Set(m.samples.filter((s) => s.split === 'train').map((s) => s.patientId));
    const test = m.samples.filter((s) => s.split === 'test');
    expect(test.length).toBeGreaterThan(0);
    for (const s of test) expect(trainP.has(s.patientId)).toBe(false);
    expect(new Set(m.samples.map((s) => s.category))).toEqual(
      new Set(m.samples.map((s) => /(\w+)$/.exec(s.caption)![1])),
    );

    const c = await loadConceptualCaptions({ tsv: set.ccTsv!, verifyImages: 'decode' });
    expect(c.errors).toEqual([]);
    expect(c.samples.map((s) => [s.caption, s.imagePath])).toEqual(m.samples.map((s) => [s.caption, s.imagePath]));
  });

  it('renderSyntheticScene draws exactly what it drew before the target option, and can fix the target', () => {
    // Hashes of the scenes of the version before `target` existed (same seeds, same arguments).
    const golden: [number, number | undefined, string][] = [
      [3, undefined, 'dbb7eb8759726883cd0c0bd4c111e561140d65d0'],
      [4, 1, '63b71a3be0bb7a639476cfcd37762f9c4a30e751'],
      [5, 2, 'e87d1136289c201889ade51deb47a43101d4b9d7'],
    ];
    for (const [seed, objects, hash] of golden) {
      const sc = renderSyntheticScene(new Rng(seed), 112, undefined, undefined, objects);
      const h = createHash('sha1').update(sc.pixels).update(JSON.stringify(sc.shapes)).digest('hex');
      expect(h, `seed ${seed}`).toBe(hash);
    }
    for (let seed = 0; seed < 20; seed++) {
      const sc = renderSyntheticScene(new Rng(seed), 64, undefined, undefined, undefined, { color: 'cyan', shape: 'star' });
      expect(sc.shapes[0]).toMatchObject({ color: 'cyan', shape: 'star' });
      expect(sc.shapes.length).toBeGreaterThanOrEqual(2);
      expect(sc.shapes.slice(1).some((o) => o.color === 'cyan' && o.shape === 'star')).toBe(false);
    }
  });

  it("its files stay inside the set's folder: an edited path that leaves it is an error in both layouts", async () => {
    const csv = (await readFile(set.mscxrCsv!, 'utf8')).split('\n');
    const tsv = (await readFile(set.ccTsv!, 'utf8')).split('\n');
    const [first] = set.images;
    const outside = `../${first.path}`;
    csv[1] = csv[1].replace(first.path, outside);
    tsv[0] = tsv[0].replace(first.path, outside);
    await writeFile(join(dir, 'edited.csv'), csv.join('\n'));
    await writeFile(join(set.outDir, 'edited.tsv'), tsv.join('\n'));
    const m = await loadMsCxr({ csv: join(dir, 'edited.csv'), imageRoot: set.outDir });
    expect(m.samples).toHaveLength(39);
    expect(m.errors).toEqual([expect.objectContaining({ row: 2, column: 'path', reason: expect.stringMatching(/outside the image root/) })]);
    const c = await loadConceptualCaptions({ tsv: join(set.outDir, 'edited.tsv') });
    expect(c.samples).toHaveLength(39);
    expect(c.errors).toEqual([expect.objectContaining({ row: 1, column: 'url', reason: expect.stringMatching(/outside the local root/) })]);
  });

  it('rejects unknown shapes and colours by name', async () => {
    await expect(
      generateSyntheticSet({ outDir: join(dir, 'x'), count: 1, seed: 0, shapes: ['hexagon' as never] }),
    ).rejects.toThrow(/unknown shape "hexagon"/);
    await expect(
      generateSyntheticSet({ outDir: join(dir, 'x'), count: 1, seed: 0, colors: ['teal' as never] }),
    ).rejects.toThrow(/unknown colour "teal"/);
    expect(SYNTHETIC_SHAPES.length * SYNTHETIC_COLOR_NAMES.length).toBe(allCaptions().length);
  });

  it('the synth command writes the layouts it is asked for', async () => {
    const out = join(dir, 'cli');
    const lines: string[] = [];
    await createDataCommand((l) => lines.push(l)).parseAsync(
      ['synth', '--out', out, '--count', '3', '--seed', '1', '--layout', 'cc'],
      { from: 'user' },
    );
    expect(lines[0]).toMatch(/synth: 3 images/);
    expect((await readFile(join(out, 'synthetic_cc.tsv'), 'utf8')).trim().split('\n')).toHaveLength(3);
    await expect(access(join(out, 'synthetic_mscxr.csv'))).rejects.toThrow();
    const bad = createDataCommand(() => undefined);
    await expect(bad.parseAsync(['synth', '--out', out, '--layout', 'coco'], { from: 'user' })).rejects.toThrow(/unknown layout "coco"/);
  });
});
