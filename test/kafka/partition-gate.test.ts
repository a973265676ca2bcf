import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PartitionGate, partitionKey } from '../../src/kafka/partition-gate.js';

describe('PartitionGate', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('counts only real transitions', () => {
    const gate = new PartitionGate();
    const key = partitionKey('t', 0);
    expect(gate.pause(key)).toBe(true);
    expect(gate.pause(key)).toBe(false);
    expect(gate.isPaused(key)).toBe(true);
    expect(gate.resume(key)).toBe(true);
    expect(gate.resume(key)).toBe(false);
    expect(gate.isPaused(key)).toBe(false);
  });

  it('does not wait on a partition that is not paused', async () => {
    const gate = new PartitionGate();
    await expect(gate.waitForResume('t:0', 1000)).resolves.toBeUndefined();
  });

  it('wakes the waiter on resume, and only that partition', async () => {
    const gate = new PartitionGate();
    gate.pause('t:0');
    gate.pause('t:1');
    const woken: string[] = [];
    void gate.waitForResume('t:0', 10_000).then(() => woken.push('t:0'));
    void gate.waitForResume('t:1', 10_000).then(() => woken.push('t:1'));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(woken).toEqual([]);
    gate.resume('t:1');
    await vi.advanceTimersByTimeAsync(0);
    expect(woken).toEqual(['t:1']);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('returns after the timeout so the caller can heartbeat, still paused', async () => {
    const gate = new PartitionGate();
    gate.pause('t:0');
    let done = false;
    void gate.waitForResume('t:0', 3_000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(2_999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    expect(gate.isPaused('t:0')).toBe(true);
  });

  it('releaseAll wakes every waiter and keeps the pauses', async () => {
    const gate = new PartitionGate();
    gate.pause('t:0');
    gate.pause('u:3');
    let woken = 0;
    void gate.waitForResume('t:0', 60_000).then(() => woken++);
    void gate.waitForResume('u:3', 60_000).then(() => woken++);
    gate.releaseAll();
    await vi.advanceTimersByTimeAsync(0);
    expect(woken).toBe(2);
    expect(gate.pausedKeys()).toEqual(['t:0', 'u:3']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
