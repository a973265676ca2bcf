import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../../src/pipeline/offset-tracker.js';

const at = (partition: number, offset: number, topic = 'in') => ({ topic, partition, offset: String(offset) });

describe('OffsetTracker', () => {
  it('commits nothing until the first offset of a partition is done', () => {
    const t = new OffsetTracker();
    [0, 1, 2].forEach((o) => t.track(at(0, o)));
    t.complete(at(0, 2));
    t.complete(at(0, 1));
    expect(t.committable()).toEqual([]);
    expect(t.inFlight).toBe(1);
    t.complete(at(0, 0));
    expect(t.committable()).toEqual([{ topic: 'in', partition: 0, offset: '3' }]);
    expect(t.inFlight).toBe(0);
  });

  it('keeps partitions independent under out-of-order completion', () => {
    const t = new OffsetTracker();
    for (let o = 0; o < 5; o++) {
      t.track(at(0, o));
      t.track(at(1, 100 + o));
    }
    // Partition 1 finishes its first three, partition 0 only its last ones.
    [at(1, 102), at(0, 4), at(1, 100), at(0, 3), at(1, 101)].forEach((p) => t.complete(p));
    expect(t.committable()).toEqual([{ topic: 'in', partition: 1, offset: '103' }]);
    t.markCommitted(t.committable());
    expect(t.committable()).toEqual([]);
    [at(0, 1), at(0, 0)].forEach((p) => t.complete(p));
    expect(t.committable()).toEqual([{ topic: 'in', partition: 0, offset: '2' }]);
    t.complete(at(0, 2));
    expect(t.committable()).toEqual([{ topic: 'in', partition: 0, offset: '5' }]);
  });

  it('ignores a record delivered again after it was done, so the watermark never moves back', () => {
    const t = new OffsetTracker();
    [0, 1].forEach((o) => t.track(at(0, o)));
    [0, 1].forEach((o) => t.complete(at(0, o)));
    t.track(at(0, 1));
    expect(t.inFlight).toBe(0);
    expect(t.complete(at(0, 1))).toBe(false);
    expect(t.committable()).toEqual([{ topic: 'in', partition: 0, offset: '2' }]);
  });

  it('handles gaps in offsets and offsets beyond 2^53', () => {
    const t = new OffsetTracker();
    const big = 2n ** 60n;
    t.track({ topic: 'in', partition: 0, offset: big.toString() });
    t.track({ topic: 'in', partition: 0, offset: (big + 7n).toString() });
    t.complete({ topic: 'in', partition: 0, offset: (big + 7n).toString() });
    t.complete({ topic: 'in', partition: 0, offset: big.toString() });
    expect(t.committable()).toEqual([{ topic: 'in', partition: 0, offset: (big + 8n).toString() }]);
  });

  it('ignores completions of forgotten (revoked) partitions and unknown records', () => {
    const t = new OffsetTracker();
    t.track(at(0, 0));
    t.track(at(0, 1));
    t.track(at(1, 0));
    t.complete(at(0, 1));
    t.forget([{ topic: 'in', partition: 0 }]);
    expect(t.inFlight).toBe(1);
    expect(t.complete(at(0, 0))).toBe(false);
    expect(t.complete(at(1, 5))).toBe(false);
    expect(t.committable()).toEqual([]);
    expect(t.complete(at(1, 0))).toBe(true);
    expect(t.committable()).toEqual([{ topic: 'in', partition: 1, offset: '1' }]);
  });

  it('stays correct over many records (compaction of its queue)', () => {
    const t = new OffsetTracker();
    const n = 5000;
    for (let o = 0; o < n; o++) t.track(at(0, o));
    // Complete in reverse blocks of 10: within a block the last goes first.
    for (let block = 0; block < n; block += 10) for (let o = block + 9; o >= block; o--) t.complete(at(0, o));
    expect(t.committable()).toEqual([{ topic: 'in', partition: 0, offset: String(n) }]);
    expect(t.inFlight).toBe(0);
  });

  it('gives back the time a record was tracked with, once, and nothing for one not tracked', () => {
    const t = new OffsetTracker();
    t.track(at(0, 0), 12.5);
    t.track(at(0, 1));
    expect(t.completeAt(at(0, 0))).toBe(12.5);
    expect(t.completeAt(at(0, 0))).toBeUndefined();
    expect(t.completeAt(at(0, 1))).toBe(0);
    expect(t.completeAt(at(1, 0))).toBeUndefined();
  });
});
