import { describe, expect, it } from 'vitest';
import { ProgressBar, renderProgress } from '../../src/produce/progress.js';

describe('renderProgress', () => {
  it('shows the share of the file, counts and rate', () => {
    expect(renderProgress({ bytes: 500, totalBytes: 1000, sent: 1200, invalid: 3, elapsedMs: 2000 }, 10)).toBe(
      '[#####.....]   50%  1,200 sent  3 invalid  600/s',
    );
    expect(renderProgress({ bytes: 0, totalBytes: 0, sent: 0, invalid: 0, elapsedMs: 0 }, 4)).toBe('[####]  100%  0 sent  0/s');
  });
});

describe('ProgressBar', () => {
  it('draws on a TTY at most every 100 ms, and a final line', () => {
    let now = 0;
    const out: string[] = [];
    const bar = new ProgressBar({ isTTY: true, write: (t: string) => out.push(t) }, 100, () => now);
    bar.update({ bytes: 10, sent: 1 });
    now = 50;
    bar.update({ bytes: 20, sent: 2 });
    now = 150;
    bar.update({ bytes: 100, sent: 9 });
    bar.done();
    expect(out).toHaveLength(4);
    expect(out[1]).toContain('9 sent');
    expect(out[3]).toBe('\n');
  });

  it('draws nothing when not a TTY', () => {
    const out: string[] = [];
    const bar = new ProgressBar({ isTTY: false, write: (t: string) => out.push(t) }, 100);
    bar.update({ bytes: 100, sent: 5 });
    bar.done();
    expect(out).toEqual([]);
  });
});
