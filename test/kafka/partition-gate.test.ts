import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { PartitionGate } from '../../src/kafka/partition-gate.js';

/** A gate on virtual time: `advanceTo(ms)` runs its timeouts due by then, then lets promise callbacks run. */
function virtualGate() {
  const scheduler = new VirtualTimeScheduler();
  const advanceTo = async (ms: number) => {
    scheduler.maxFrames = ms;
    scheduler.flush();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { gate: new PartitionGate(scheduler), scheduler, advanceTo };
}

describe('PartitionGate', () => {
  it('counts only real transitions', () => {
    const gate = new PartitionGate();
    expect(gate.pause('t', 0)).toBe(true);
    expect(gate.pause('t', 0)).toBe(false);
    expect(gate.isPaused('t', 0)).toBe(true);
    expect(gate.isPaused('t', 1)).toBe(false);
    expect(gate.resume('t', 0)).toBe(true);
    expect(gate.resume('t', 0)).toBe(false);
    expect(gate.isPaused('t', 0)).toBe(false);
  });

  it('keeps topic and partition apart, so no topic name can collide with another partition', () => {
    const gate = new PartitionGate();
    gate.pause('a:1', 2);
    expect(gate.isPaused('a', 12)).toBe(false);
    expect(gate.isPaused('a:1', 2)).toBe(true);
    expect(gate.pausedPartitions()).toEqual([{ topic: 'a:1', partition: 2 }]);
  });

  it('does not wait on a partition that is not paused', async () => {
    const { gate, scheduler } = virtualGate();
    await expect(gate.waitForResume('t', 0, 1000)).resolves.toBeUndefined();
    expect(scheduler.actions).toHaveLength(0);
  });

  it('wakes the waiter on resume, and only that partition', async () => {
    const { gate, scheduler, advanceTo } = virtualGate();
    gate.pause('t', 0);
    gate.pause('t', 1);
    const woken: string[] = [];
    void gate.waitForResume('t', 0, 10_000).then(() => woken.push('t/0'));
    void gate.waitForResume('t', 1, 10_000).then(() => woken.push('t/1'));
    await advanceTo(5_000);
    expect(woken).toEqual([]);
    gate.resume('t', 1);
    await advanceTo(5_000);
    expect(woken).toEqual(['t/1']);
    // The woken waiter's timeout is cancelled; only t/0's is still pending.
    expect(scheduler.actions.filter((a) => !a.closed)).toHaveLength(1);
  });

  it('returns after the timeout so the caller can heartbeat, still paused', async () => {
    const { gate, advanceTo } = virtualGate();
    gate.pause('t', 0);
    let done = false;
    void gate.waitForResume('t', 0, 3_000).then(() => (done = true));
    await advanceTo(2_999);
    expect(done).toBe(false);
    await advanceTo(3_000);
    expect(done).toBe(true);
    expect(gate.isPaused('t', 0)).toBe(true);
  });

  it('releaseAll wakes every waiter and keeps the pauses', async () => {
    const { gate, scheduler, advanceTo } = virtualGate();
    gate.pause('t', 0);
    gate.pause('u', 3);
    let woken = 0;
    void gate.waitForResume('t', 0, 60_000).then(() => woken++);
    void gate.waitForResume('u', 3, 60_000).then(() => woken++);
    gate.releaseAll();
    await advanceTo(0);
    expect(woken).toBe(2);
    expect(gate.pausedPartitions()).toEqual([
      { topic: 't', partition: 0 },
      { topic: 'u', partition: 3 },
    ]);
    expect(scheduler.actions.filter((a) => !a.closed)).toHaveLength(0);
  });
});
