import { describe, expect, it } from 'vitest';
import { settledOffsets } from '../../src/pipeline/settled-offsets.js';

describe('settledOffsets', () => {
  const key = (o: { partition: number }) => String(o.partition);

  it('reads twice, a pause apart, and keeps the later commit a first read did not see yet', async () => {
    const reads = [
      [{ partition: 0, offset: '100' }, { partition: 1, offset: '-1' }],
      [{ partition: 0, offset: '250' }, { partition: 1, offset: '7' }],
    ];
    const waited: number[] = [];
    const out = await settledOffsets(async () => reads.shift()!, key, 400, async (ms) => void waited.push(ms));
    expect(out).toEqual([{ partition: 0, offset: '250' }, { partition: 1, offset: '7' }]);
    expect(waited).toEqual([400]);
  });

  it('never moves an offset back, and reads once when the pause is 0', async () => {
    const reads = [[{ partition: 0, offset: '9' }], [{ partition: 0, offset: '3' }]];
    expect(await settledOffsets(async () => reads.shift()!, key, 1, async () => {})).toEqual([{ partition: 0, offset: '9' }]);
    let calls = 0;
    await settledOffsets(async () => (calls++, [{ partition: 0, offset: '1' }]), key, 0);
    expect(calls).toBe(1);
  });
});
