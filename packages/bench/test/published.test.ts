// Published tables as data: the shipped NIB table reads and maps onto the registries; a file
// that names an unknown method or metric, or a column whose unit is not the metric's, is an
// error naming the file and the key.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadPublished, PUBLISHED_DIR } from '../src/published';

const shipped = () => parse(readFileSync(join(PUBLISHED_DIR, 'nib-readme.yaml'), 'utf8'));

function writeTable(edit: (t: ReturnType<typeof shipped>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'published-'));
  const t = shipped();
  edit(t);
  writeFileSync(join(dir, 'bad.yaml'), stringify(t));
  return dir;
}

describe('published tables', () => {
  it('the NIB README table reads: 3 data sets × 8 rows, every value as published, rows mapped or marked not implemented', () => {
    const { table } = loadPublished('nib-readme/cc', PUBLISHED_DIR);
    expect(Object.keys(table.datasets)).toEqual(['cc', 'imagenet', 'flickr8k']);
    for (const d of Object.values(table.datasets)) expect(d.rows.map((r) => r.published)).toEqual(['M2IB', 'RISE', 'Grad-CAM', 'Chefer et al. (2021)', 'SaliencyMap', 'MFABA', 'FastIG', 'NIB']);
    const m2ib = table.datasets.cc.rows[0];
    expect(m2ib.values).toEqual({ image_conf_drop: 1.1171, image_conf_incr: 39.3, text_conf_drop: 1.706, text_conf_incr: 37.4, fps: 0.6621 });
    expect(table.datasets.flickr8k.rows[7].values.text_conf_incr).toBe(55.3);
    expect(table.columns.fps.metric).toBeUndefined();
  });

  it('names the file and key of an unknown method, an unknown metric, a wrong unit, a bad option and a missing data set', () => {
    const file = (d: string) => join(d, 'bad.yaml');
    const unknownMethod = writeTable((t) => (t.datasets.cc.rows[1].method = 'rice'));
    expect(() => loadPublished('bad/cc', unknownMethod)).toThrow(new RegExp(`${file(unknownMethod)}: datasets\\.cc\\.rows\\[1\\] \\(RISE\\)\\.method: unknown method "rice"`));
    const unknownMetric = writeTable((t) => (t.columns.image_conf_drop.metric = 'confidence-xyz'));
    expect(() => loadPublished('bad/cc', unknownMetric)).toThrow(/columns\.image_conf_drop\.metric: unknown metric "confidence-xyz"/);
    const wrongUnit = writeTable((t) => (t.columns.text_conf_drop.unit = 'percent of Y'));
    expect(() => loadPublished('bad/cc', wrongUnit)).toThrow(/columns\.text_conf_drop\.unit: "percent of Y" does not match confidence-nib\.drop, which is in "cosine×100"/);
    const badOption = writeTable((t) => (t.datasets.imagenet.rows[0].options = { layer: 9, gamma: 2 }));
    expect(() => loadPublished('bad/imagenet', badOption)).toThrow(/datasets\.imagenet\.rows\[0\] \(M2IB\)\.options\.gamma: unknown option/);
    expect(() => loadPublished('nib-readme/coco', PUBLISHED_DIR)).toThrow(/has no data set "coco" \(it has cc, imagenet, flickr8k\)/);
    expect(() => loadPublished('nope/cc', PUBLISHED_DIR)).toThrow(/nope\.yaml does not exist/);
  });
});
