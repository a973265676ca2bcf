import { describe, expect, it, vi } from 'vitest';
import { formatStatusLine, ratePerSecond, startStatus } from '../../src/cli/run-status.js';
import type { PipelineStats } from '../../src/pipeline/pipeline.js';

const stats = (augmented: number, deadLettered: number, extra: Partial<PipelineStats> = {}): PipelineStats => ({
  consumed: augmented + deadLettered, augmented, deadLettered, inFlight: 12, peakInFlight: 12, pausedPartitions: 0, pauses: 0, queuePauses: 0, lag: 880, commits: 0, ...extra,
});

describe('run status', () => {
  it('computes the rate between two snapshots', () => {
    expect(ratePerSecond({ stats: stats(10, 0), at: 0 }, { stats: stats(48, 4), at: 2_000 })).toBe(21);
    expect(ratePerSecond({ stats: stats(10, 0), at: 5 }, { stats: stats(10, 0), at: 5 })).toBe(0);
  });

  it('formats the live line with rate, lag and queue', () => {
    expect(formatStatusLine(stats(120, 3), 4.25, 256)).toBe('augmented 120 · dead 3 · 4.3/s · lag 880 · queue 12/256');
    expect(formatStatusLine(stats(1, 0, { lag: undefined, pausedPartitions: 2 }), 0, 8)).toBe('augmented 1 · dead 0 · 0.0/s · lag ? · queue 12/8 (paused 2)');
  });

  it('on a terminal ends the live line once, however often it is stopped', () => {
    vi.useFakeTimers();
    try {
      const written: string[] = [];
      const out = { isTTY: true, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
      const reporter = startStatus({ stats: () => stats(1, 0), queueLimit: 8, out, intervalMs: 10, now: () => 0 });
      vi.advanceTimersByTime(10);
      reporter.stop();
      reporter.stop();
      expect(written.filter((w) => w === '\n')).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports nothing while the pipeline is still starting, then reports as usual', () => {
    vi.useFakeTimers();
    try {
      const written: string[] = [];
      const out = { isTTY: false, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
      const pipeline: { stats?: PipelineStats } = {};
      const reporter = startStatus({ stats: () => pipeline.stats, queueLimit: 8, out, intervalMs: 10, now: () => 0 });
      vi.advanceTimersByTime(30);
      expect(written).toEqual([]);
      pipeline.stats = stats(5, 1);
      vi.advanceTimersByTime(10);
      expect(written).toHaveLength(1);
      expect(JSON.parse(written[0]!)).toMatchObject({ event: 'progress', augmented: 5, deadLettered: 1 });
      reporter.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
