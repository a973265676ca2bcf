import { describe, expect, it } from 'vitest';
import { countIds, recoverySeconds, type OutRecord } from './support/count.js';

const rec = (id: string, ts: number, deadLetter = false): OutRecord => ({ id, ts, deadLetter });

describe('chaos counts', () => {
  it('counts missing ids, records beyond one per id, and dead letters', () => {
    const counts = countIds([rec('q0', 1), rec('q1', 1), rec('q1', 2), rec('q3', 1, true)], 4);
    expect(counts).toEqual({ sent: 4, missing: 1, duplicates: 1, deadLettered: 1 });
  });

  it('refuses ids that were never sent', () => {
    expect(() => countIds([rec('q9', 1)], 4)).toThrow(/never sent/);
  });

  it('recovery: the slowest input partition to write again after the fault; partitions with nothing left do not count', () => {
    // 2 partitions: q0, q2 on 0; q1, q3 on 1. Fault at 1000.
    const records = [rec('q0', 500), rec('q1', 900), rec('q2', 1_500), rec('q3', 4_000), rec('q1', 3_000)];
    expect(recoverySeconds(records, 1_000, 2)).toBe(2);
    expect(recoverySeconds(records, 2_000, 2)).toBe(1); // only partition 1 wrote after it, first at 3000
    expect(recoverySeconds(records, 5_000, 2)).toBeUndefined();
  });
});
