import { describe, expect, it } from 'vitest';
import { LagTracker } from '../../src/kafka/lag-tracker.js';

describe('LagTracker', () => {
  it('is unknown until every assigned partition has a high watermark and a position', () => {
    const lag = new LagTracker();
    expect(lag.total()).toBeUndefined();
    lag.setAssignment([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
    ]);
    lag.observeHighWatermark('t', 0, '100');
    lag.observePosition('t', 0, '40');
    expect(lag.total()).toBeUndefined();
    expect(lag.byPartition()).toEqual([{ topic: 't', partition: 0, highWatermark: '100', position: '40', lag: 60 }]);
    lag.observeHighWatermark('t', 1, '10');
    lag.observeDelivered('t', 1, '9');
    expect(lag.total()).toBe(60);
  });

  it('moves positions and high watermarks forward only', () => {
    const lag = new LagTracker();
    lag.setAssignment([{ topic: 't', partition: 0 }]);
    lag.observeHighWatermark('t', 0, '50');
    lag.observeDelivered('t', 0, '19');
    lag.observePosition('t', 0, '5'); // an older committed offset
    lag.observeHighWatermark('t', 0, '30'); // an older batch
    expect(lag.total()).toBe(30);
    lag.observePosition('t', 0, '-1'); // no committed offset
    expect(lag.total()).toBe(30);
  });

  it('works with offsets beyond 2^53', () => {
    const lag = new LagTracker();
    lag.setAssignment([{ topic: 't', partition: 0 }]);
    lag.observeHighWatermark('t', 0, '9007199254740999');
    lag.observeDelivered('t', 0, '9007199254740993');
    expect(lag.total()).toBe(5);
  });

  it('forgets partitions no longer assigned and ignores unassigned ones', () => {
    const lag = new LagTracker();
    lag.setAssignment([{ topic: 't', partition: 0 }]);
    lag.observeHighWatermark('t', 0, '10');
    lag.observeDelivered('t', 0, '4');
    lag.observeDelivered('t', 7, '4');
    lag.setAssignment([{ topic: 't', partition: 1 }]);
    expect(lag.byPartition()).toEqual([]);
    lag.setAssignment([{ topic: 't', partition: 0 }]);
    expect(lag.total()).toBeUndefined();
  });

  it('resetPositions lets a rebalance move the position back to the committed offset', () => {
    const lag = new LagTracker();
    lag.setAssignment([{ topic: 't', partition: 0 }]);
    lag.observeHighWatermark('t', 0, '10');
    lag.observeDelivered('t', 0, '8');
    lag.resetPositions();
    lag.observePosition('t', 0, '3');
    expect(lag.total()).toBe(7);
  });
});
