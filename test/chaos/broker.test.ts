import { describe, expect, it } from 'vitest';
import { brokerLogDuring } from './support/broker.js';

const local = (t: string): number => Date.parse(`2026-12-02T${t}`);

describe('brokerLogDuring', () => {
  const log = [
    '[2026-12-02 01:00:00,000] INFO before the window (kafka.server)',
    '[2026-12-02 01:00:10,000] INFO in the window (kafka.server)',
    '  a continuation line without a timestamp',
    '[2026-12-02 01:00:12,500] WARN [Broker id=1] slow fsync (kafka.log)',
    '[2026-12-02 01:00:50,000] ERROR request timed out (kafka.network)',
    '[2026-12-02 01:01:30,000] INFO after the window (kafka.server)',
  ].join('\n');

  it('counts the lines in the window, keeps its warnings and errors, and finds the longest silence', () => {
    expect(brokerLogDuring(log, local('01:00:05'), local('01:01:00'))).toBe(
      '3 lines, longest silence 37.5 s: 01:00:12 WARN [Broker id=1] slow fsync (kafka.log) | 01:00:50 ERROR request timed out (kafka.network)',
    );
  });

  it('counts a quiet end of the window as silence, and keeps only the last warnings', () => {
    expect(brokerLogDuring(log, local('01:00:11'), local('01:01:20'), 1)).toBe('2 lines, longest silence 37.5 s: 01:00:50 ERROR request timed out (kafka.network)');
    expect(brokerLogDuring(log, local('01:00:51'), local('01:01:20'))).toBe('0 lines, longest silence 29.0 s');
  });
});
