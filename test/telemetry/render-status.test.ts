import { describe, expect, it } from 'vitest';
import type { GroupStatus } from '../../src/telemetry/group-status.js';
import { renderStatus } from '../../src/telemetry/render-status.js';

const group = (committed: [string, string], at: number): GroupStatus => ({
  group: 'g',
  topic: 'in',
  state: 'Stable',
  partitions: [
    { partition: 0, committed: committed[0], end: '100', lag: 100 - Number(committed[0]) },
    { partition: 1, committed: committed[1], end: '50', lag: 50 - Number(committed[1]) },
  ],
  members: [{ memberId: 'm1', clientId: 'teacherlm-run', host: '/127.0.0.1', partitions: [0, 1] }],
  deadLetters: 3,
  committedTotal: BigInt(committed[0]) + BigInt(committed[1]),
  at,
});

describe('renderStatus', () => {
  it('shows lag per partition, members, dead letters and the committed rate between two readings', () => {
    const text = renderStatus({ group: group(['90', '45'], 3_000) }, { group: group(['80', '40'], 1_000) });
    expect(text).toContain('group g on in · Stable · 1 member');
    expect(text).toMatch(/^\s+0\s+90\s+100\s+10$/m);
    expect(text).toMatch(/^\s+1\s+45\s+50\s+5$/m);
    expect(text).toContain('lag 15 · 7.5 records/s committed · dead letters 3');
    expect(text).toContain('member teacherlm-run /127.0.0.1 partitions 0,1');
  });

  it("adds a worker's figures, with rates once there are two readings", () => {
    const worker = (written: number, at: number) => ({ url: 'http://w/metrics', written, deadLettered: 1, inFlight: 2, queueDepth: 4, busy: 0.5, promptTokens: written * 10, generatedTokens: written * 3, at });
    const text = renderStatus({ group: group(['1', '1'], 2_000), worker: worker(30, 2_000) }, { group: group(['1', '1'], 0), worker: worker(10, 0) });
    expect(text).toContain('worker http://w/metrics: written 30 (dead 1) · in flight 2 · queue 4 · busy 50% · 10.0 records/s · tokens/s in 100.0 out 30.0');
    expect(renderStatus({ group: group(['1', '1'], 0) })).toContain('throughput ?');
  });
});
