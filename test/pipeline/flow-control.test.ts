import { describe, expect, it } from 'vitest';
import { FlowControl } from '../../src/pipeline/flow-control.js';

function recorder() {
  const calls: string[] = [];
  return { calls, source: { pause: (t: string, p: number) => calls.push(`pause ${t}/${p}`), resume: (t: string, p: number) => calls.push(`resume ${t}/${p}`) } };
}

describe('FlowControl', () => {
  it('pauses partitions that deliver while the queue is full and resumes them when drained', () => {
    const { calls, source } = recorder();
    const flow = new FlowControl(source, { queueLimit: 4 });
    let inFlight = 0;
    const add = (p: number) => flow.added('in', p, ++inFlight);
    const remove = (n: number) => flow.removed((inFlight -= n));
    add(0);
    add(1);
    add(0);
    expect(calls).toEqual([]);
    add(1); // 4 in flight: full
    add(0); // a record already fetched still arrives
    expect(calls).toEqual(['pause in/1', 'pause in/0']);
    add(0); // already paused: not paused again
    expect(flow.pausedCount).toBe(2);
    expect(flow.pauses).toBe(2);
    remove(3); // 3 left: above resumeAt (2)
    expect(calls).toHaveLength(2);
    remove(1); // 2 left: drained
    expect(calls.slice(2).sort()).toEqual(['resume in/0', 'resume in/1']);
    expect(flow.pausedCount).toBe(0);
    remove(1);
    expect(calls).toHaveLength(4);
  });

  it('with queueLimit 1 pauses on every record and resumes when empty', () => {
    const { calls, source } = recorder();
    const flow = new FlowControl(source, { queueLimit: 1 });
    flow.added('in', 0, 1);
    flow.removed(0);
    expect(calls).toEqual(['pause in/0', 'resume in/0']);
  });
});
