import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMsCxr, patientIdFromPath } from '../src/mscxr';
import { expectReasons, useTempDir, writeImage, writeTruncatedJpeg } from './helpers';

const HEADER_V10 = 'dicom_id,category_name,label_text,path,x,y,w,h,image_width,image_height';
const HEADER_V11 = `${HEADER_V10},split`;
const D1 = '02aa804e-bde0afdd-112c0b34-7bc16630-4e384014';
const D2 = '1a2b3c4d-11111111-22222222-33333333-44444444';
const D3 = '5e6f7a8b-55555555-66666666-77777777-88888888';
const P1 = `files/p10/p10000032/s50414267/${D1}.jpg`;
const P2 = `files/p10/p10000032/s53189527/${D2}.jpg`;
const P3 = `files/p11/p11000011/s51234567/${D3}.jpg`;

describe('loadMsCxr', () => {
  const dir = useTempDir('mscxr');
  const root = join(dir, 'mimic-cxr-jpg');
  beforeAll(async () => {
    // Non-square, as chest X-rays are (portrait and landscape).
    await writeImage(join(root, P1), 120, 150, 'jpeg');
    await writeImage(join(root, P2), 160, 100, 'jpeg');
    await writeImage(join(root, P3), 90, 90, 'jpeg');
  });

  it('reads v1.0.0: groups the boxes of one phrase, keeps category and patient', async () => {
    const csv = join(dir, 'MS_CXR_Local_Alignment_v1.0.0.csv');
    await writeFile(
      csv,
      [
        HEADER_V10,
        `${D1},Pleural Effusion,"Small bilateral effusions, left greater than right",${P1},10,20,30,40,120,150`,
        `${D2},Cardiomegaly,Enlarged heart,${P2},5.5,6,70.25,50,160,100`,
        `${D1},Pleural Effusion,"Small bilateral effusions, left greater than right",${P1},60,22,35,41,120,150`,
        `${D1},Pneumothorax,Small left apical pneumothorax,${P1},70,5,20,15,120,150`,
      ].join('\r\n') + '\r\n',
    );
    const { samples, errors } = await loadMsCxr({ csv, imageRoot: root });
    expect(errors).toEqual([]);
    expect(samples).toHaveLength(3);
    const [effusion, heart, ptx] = samples;
    expect(effusion).toMatchObject({
      imagePath: join(root, P1),
      caption: 'Small bilateral effusions, left greater than right',
      boxes: [
        { x: 10, y: 20, w: 30, h: 40 },
        { x: 60, y: 22, w: 35, h: 41 },
      ],
      imageSize: { width: 120, height: 150 },
      category: 'Pleural Effusion',
      patientId: 'p10000032',
      source: { file: csv, row: 2 },
    });
    expect(effusion.split).toBeUndefined();
    expect(heart).toMatchObject({ boxes: [{ x: 5.5, y: 6, w: 70.25, h: 50 }], imageSize: { width: 160, height: 100 }, source: { row: 3 } });
    expect(ptx).toMatchObject({ caption: 'Small left apical pneumothorax', boxes: [{ x: 70, y: 5, w: 20, h: 15 }], source: { row: 5 } });
    // Two phrases of one image are two samples with distinct stable ids.
    expect(new Set(samples.map((s) => s.id)).size).toBe(3);
    const again = await loadMsCxr({ csv, imageRoot: root });
    expect(again.samples.map((s) => s.id)).toEqual(samples.map((s) => s.id));
  });

  it('reads v1.1.0 with its split column (val normalised)', async () => {
    const csv = join(dir, 'MS_CXR_Local_Alignment_v1.1.0.csv');
    await writeFile(
      csv,
      [
        HEADER_V11,
        `${D1},Edema,Mild edema,${P1},1,2,3,4,120,150,train`,
        `${D2},Consolidation,Right lower consolidation,${P2},7,8,9,10,160,100,Val`,
        `${D3},Atelectasis,Bibasilar atelectasis,${P3},11,12,13,14,90,90,test`,
      ].join('\n'),
    );
    const { samples, errors } = await loadMsCxr({ csv, imageRoot: root });
    expect(errors).toEqual([]);
    expect(samples.map((s) => [s.split, s.patientId])).toEqual([
      ['train', 'p10000032'],
      ['val', 'p10000032'],
      ['test', 'p11000011'],
    ]);
  });

  it('throws naming the file and the column when the header lacks a column', async () => {
    const csv = join(dir, 'no_h.csv');
    await writeFile(csv, 'dicom_id,category_name,label_text,path,x,y,w,image_width,image_height\n');
    await expect(loadMsCxr({ csv, imageRoot: root })).rejects.toThrow(/no_h\.csv.*missing column "h"/);
    await expect(loadMsCxr({ csv: join(dir, 'absent.csv'), imageRoot: root })).rejects.toThrow(/absent\.csv/);
  });

  it('records a bad number with file, row and column, drops that phrase only, and throws in strict mode', async () => {
    const csv = join(dir, 'badnum.csv');
    await writeFile(
      csv,
      [
        HEADER_V10,
        `${D1},Edema,Mild edema,${P1},1,2,3,4,120,150`,
        `${D2},Edema,Two box phrase,${P2},1,2,3,4,160,100`,
        `${D2},Edema,Two box phrase,${P2},5,6,seven,8,160,100`, // row 4, column w
        `${D3},Edema,,${P3},1,2,3,4,90,90`, // row 5: empty caption
        `${D3},Edema,Short row,${P3},1,2`, // row 6: too few fields
        `${D3},Edema,Zero width,${P3},1,2,0,4,90,90`, // row 7
      ].join('\n'),
    );
    const { samples, errors } = await loadMsCxr({ csv, imageRoot: root });
    expect(samples.map((s) => s.caption)).toEqual(['Mild edema']);
    expect(errors.map((e) => [e.file, e.row, e.column])).toEqual([
      [csv, 4, 'w'],
      [csv, 5, 'label_text'],
      [csv, 6, undefined],
      [csv, 7, 'w'],
    ]);
    expect(errors[0].reason).toMatch(/expected a number, found "seven"/);
    expect(errors[1].reason).toMatch(/empty caption/);
    expect(errors[2].reason).toMatch(/expected 10 fields, found 6/);
    await expect(loadMsCxr({ csv, imageRoot: root, strict: true })).rejects.toThrow(/badnum\.csv: row 4, column "w"/);
  });

  it('records a missing image and a broken image without stopping', async () => {
    const gone = `files/p12/p12000012/s52000000/gone.jpg`;
    const broken = `files/p12/p12000012/s52000001/broken.jpg`;
    await writeTruncatedJpeg(join(root, broken), 64, 48);
    const csv = join(dir, 'images.csv');
    await writeFile(
      csv,
      [
        HEADER_V10,
        `${D1},Edema,Fine,${P1},1,2,3,4,120,150`,
        `aaa,Edema,Missing image,${gone},1,2,3,4,64,48`,
        `bbb,Edema,Broken image,${broken},1,2,3,4,64,48`,
        `${D3},Edema,Wrong size in CSV,${P3},1,2,3,4,91,90`,
      ].join('\n'),
    );
    const quick = await loadMsCxr({ csv, imageRoot: root });
    expect(quick.samples.map((s) => s.caption)).toEqual(['Fine', 'Broken image', 'Wrong size in CSV']);
    expect(quick.errors).toHaveLength(1);
    expect(quick.errors[0]).toMatchObject({ row: 3, column: 'path' });
    expect(quick.errors[0].reason).toMatch(/image not found: .*gone\.jpg/);

    const full = await loadMsCxr({ csv, imageRoot: root, verifyImages: 'decode' });
    expect(full.samples.map((s) => s.caption)).toEqual(['Fine']);
    expect(full.errors.map((e) => e.row)).toEqual([3, 4, 5]);
    expect(full.errors[1].reason).toMatch(/cannot decode image/);
    expect(full.errors[2].reason).toMatch(/is 90×90 but the CSV says 91×90/);
  });

  it('records rows of one phrase that disagree on the image', async () => {
    const csv = join(dir, 'conflict.csv');
    await writeFile(
      csv,
      [HEADER_V10, `${D1},Edema,Same phrase,${P1},1,2,3,4,120,150`, `${D1},Edema,Same phrase,${P1},1,2,3,4,121,150`].join('\n'),
    );
    const { samples, errors } = await loadMsCxr({ csv, imageRoot: root });
    expect(samples).toEqual([]);
    expect(errors).toEqual([expect.objectContaining({ row: 3, column: 'image_width' })]);
  });
});

describe('loadMsCxr: paths stay inside the image root, boxes inside the image, duplicates once', () => {
  const dir = useTempDir('mscxr-rules');
  const root = join(dir, 'root');
  beforeAll(async () => {
    await writeImage(join(root, P1), 120, 150, 'jpeg');
    // A file outside the root that a "../" path would reach.
    await writeImage(join(dir, 'files', 'p10', 'p10000032', 's1', 'x.jpg'), 120, 150, 'jpeg');
  });

  it('refuses a path that climbs out of imageRoot or is absolute (file, row, column "path", why)', async () => {
    const csv = join(dir, 'paths.csv');
    const escape = '../files/p10/p10000032/s1/x.jpg';
    const absolute = join(dir, 'files/p10/p10000032/s1/x.jpg');
    await writeFile(
      csv,
      [
        HEADER_V10,
        `${D1},Edema,Fine,${P1},1,2,3,4,120,150`,
        `${D2},Edema,Climbs out,${escape},1,2,3,4,120,150`,
        `${D3},Edema,Absolute,${absolute},1,2,3,4,120,150`,
        `${D1},Edema,Stays inside,files/p10/../p10/p10000032/s50414267/${D1}.jpg,1,2,3,4,120,150`,
      ].join('\n'),
    );
    const { samples, errors } = await loadMsCxr({ csv, imageRoot: root });
    expect(samples.map((s) => [s.caption, s.imagePath])).toEqual([
      ['Fine', join(root, P1)],
      ['Stays inside', join(root, P1)],
    ]);
    expect(errors.map((e) => [e.file, e.row, e.column])).toEqual([
      [csv, 3, 'path'],
      [csv, 4, 'path'],
    ]);
    expect(errors[0].reason).toBe(`path "${escape}" resolves to ${absolute}, outside the image root (${root})`);
    expect(errors[1].reason).toBe(`absolute path "${absolute}" is not allowed: expected a path relative to the image root (${root})`);
    await expect(loadMsCxr({ csv, imageRoot: root, strict: true })).rejects.toThrow(/paths\.csv: row 3, column "path": path "\.\.\/files/);
  });

  it('refuses boxes that are empty, negative or leave the image the row describes', async () => {
    const csv = join(dir, 'boxes.csv');
    const row = (label: string, x: number | string, y: number | string, w: number | string, h: number | string) =>
      `${D1},Edema,${label},${P1},${x},${y},${w},${h},120,150`;
    await writeFile(
      csv,
      [
        HEADER_V10,
        row('Touches both edges', 0, 0, 120, 150), // row 2: exactly the image: fine
        row('Left of the image', -1, 0, 10, 10), // 3
        row('Above the image', 0, -0.5, 10, 10), // 4
        row('Past the right edge', 111, 0, 10, 10), // 5: 111 + 10 = 121 > 120
        row('Past the bottom edge', 0, 141, 10, 10), // 6: 151 > 150
        row('Zero width', 5, 5, 0, 10), // 7
        row('Negative height', 5, 5, 10, -3), // 8
      ].join('\n'),
    );
    const { samples, errors } = await loadMsCxr({ csv, imageRoot: root });
    expect(samples.map((s) => s.caption)).toEqual(['Touches both edges']);
    expect(errors.map((e) => [e.row, e.column])).toEqual([
      [3, 'x'],
      [4, 'y'],
      [5, 'w'],
      [6, 'h'],
      [7, 'w'],
      [8, 'h'],
    ]);
    expectReasons(errors, [
      "expected x ≥ 0 (the box's left edge inside the image), found -1",
      "expected y ≥ 0 (the box's top edge inside the image), found -0.5",
      "box ends past the image's right edge: x + w = 111 + 10 = 121 > image_width 120 (expected x + w ≤ image_width)",
      "box ends past the image's bottom edge: y + h = 141 + 10 = 151 > image_height 150 (expected y + h ≤ image_height)",
      'expected a positive number (a box of zero or negative size is empty), found 0',
      'expected a positive number (a box of zero or negative size is empty), found -3',
    ]);
  });

  it('keeps a repeated row once and records it as a warning (never thrown in strict mode)', async () => {
    const csv = join(dir, 'dups.csv');
    const a = `${D1},Edema,Two boxes,${P1},1,2,3,4,120,150`;
    const b = `${D1},Edema,Two boxes,${P1},50,60,7,8,120,150`;
    await writeFile(csv, [HEADER_V10, a, b, a, `${D1},Edema,Two boxes,${P1},1,2,3,5,120,150`].join('\n'));
    const { samples, errors } = await loadMsCxr({ csv, imageRoot: root });
    expect(samples).toHaveLength(1);
    expect(samples[0].boxes).toEqual([
      { x: 1, y: 2, w: 3, h: 4 },
      { x: 50, y: 60, w: 7, h: 8 },
      { x: 1, y: 2, w: 3, h: 5 }, // another box: not a duplicate
    ]);
    expect(errors).toEqual([
      {
        id: samples[0].id,
        file: csv,
        row: 4,
        reason: 'duplicate of row 2 (same dicom_id, path, label_text and box); kept once',
        severity: 'warning',
      },
    ]);
    expect((await loadMsCxr({ csv, imageRoot: root, strict: true })).samples).toHaveLength(1);
  });
});

describe('patientIdFromPath', () => {
  it('finds p + 8 digits in MIMIC-CXR-JPG paths', () => {
    expect(patientIdFromPath('files/p10/p10000032/s50414267/x.jpg')).toBe('p10000032');
    expect(patientIdFromPath('files/p10000001/s50000001/x.png')).toBe('p10000001');
    expect(patientIdFromPath('files/p10/s50414267/x.jpg')).toBeUndefined();
  });
});
