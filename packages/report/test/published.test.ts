// The published comparison reads each column at its own side's sweep point: a config that
// overrides one side (m2ib's text side with a beta of its own) gives that side other points.
import { describe, expect, it } from 'vitest';
import type { Run, Summary, SummaryRow } from '@ceb/results';
import { compareWithPublished } from '../src/index';

const row = (side: 'image' | 'text', point: string, mean: number): SummaryRow => ({ method: 'm2ib', side, point, key: 'confidence-nib.drop', metric: 'confidence-nib', output: 'drop', mean, lo: mean - 1, hi: mean + 1, n: 5, higherIsBetter: false });

const run = {
  info: {
    runId: 'r',
    methods: [
      {
        name: 'm2ib',
        sides: ['image', 'text'],
        points: [{ key: 'beta=0.1', options: { layer: 9, beta: 0.1 } }, { key: 'beta=1', options: { layer: 9, beta: 1 } }],
        pointsBySide: {
          image: [{ key: 'beta=0.1', options: { layer: 9, beta: 0.1 } }, { key: 'beta=1', options: { layer: 9, beta: 1 } }],
          text: [{ key: 'default', options: { layer: 9, beta: 0.1 } }],
        },
      },
    ],
    comparison: {
      ref: 'nib-readme/cc',
      title: 't',
      source: { repository: 'r', file: 'f', commit: '0000000' },
      dataset: 'd',
      model: 'm',
      protocol: 'confidence-nib',
      hardware: 'not stated',
      columns: [
        { key: 'image_drop', published: 'image drop', metric: 'confidence-nib', side: 'image', output: 'drop', unit: 'points' },
        { key: 'text_drop', published: 'text drop', metric: 'confidence-nib', side: 'text', output: 'drop', unit: 'points' },
      ],
      rows: [{ published: 'M2IB', method: 'm2ib', options: { beta: 0.1 }, implemented: true, values: { image_drop: 1.1, text_drop: 2.2 } }],
      differences: [],
    },
  },
} as unknown as Run;

describe('compareWithPublished', () => {
  it('matches the image columns on the image points and the text columns on the text points', () => {
    const summary = { rows: [row('image', 'beta=0.1', 4), row('image', 'beta=1', 8), row('text', 'default', 6)] } as unknown as Summary;
    const [m2ib] = compareWithPublished(run, summary);
    expect(m2ib.point).toBe('beta=0.1');
    expect(m2ib.cells.map((c) => c.measured?.mean)).toEqual([4, 6]);
  });
});
