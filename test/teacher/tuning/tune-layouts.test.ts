import { describe, expect, it } from 'vitest';
import { candidateLayouts, tuneLayouts, type MeasureLayout } from '../../../src/teacher/tuning/tune-layouts.js';
import { promptCountAt, tunePrompts } from '../../../src/teacher/tuning/tune-workload.js';
import type { Layout } from '../../../src/teacher/engine-layout.js';

const GiB = 2 ** 30;
const name = (l: Layout) => `${l.workers}x${l.intraOpThreads}`;

/** A fake engine: tokens/s per layout and batch size, per round, recording the order it was asked in. */
function fakeMeasure(figures: Record<string, Record<string, number>[]>) {
  const asked: string[] = [];
  const measure: MeasureLayout = async (layout) => {
    const n = name(layout);
    const round = asked.filter((a) => a === n).length;
    asked.push(n);
    return { provider: 'cpu', tokensPerSec: figures[n]![round]! };
  };
  return { measure, asked };
}

describe('candidateLayouts', () => {
  it('splits the cores into workers x threads, most workers first, as many workers as auto allows', () => {
    const big = { memoryBytes: 256 * GiB, sessionBytes: 0.5 * GiB, cuda: false };
    expect(candidateLayouts({ cores: 2, ...big }).map(name)).toEqual(['2x1', '1x2']);
    expect(candidateLayouts({ cores: 1, ...big }).map(name)).toEqual(['1x1']);
    expect(candidateLayouts({ cores: 6, ...big }).map(name)).toEqual(['6x1', '3x2', '2x3', '1x6']);
    expect(candidateLayouts({ cores: 16, ...big }).map(name)).toEqual(['8x2', '4x4', '2x8', '1x16']);
    expect(candidateLayouts({ cores: 4, memoryBytes: 2 * GiB, sessionBytes: 0.5 * GiB, cuda: false }).map(name)).toEqual(['2x2', '1x4']);
  });

  it('on CUDA, one session against two', () => {
    expect(candidateLayouts({ cores: 16, memoryBytes: 128 * GiB, sessionBytes: 0.5 * GiB, cuda: true }).map(name)).toEqual(['1x16', '2x8']);
    expect(candidateLayouts({ cores: 1, memoryBytes: 128 * GiB, sessionBytes: 0.5 * GiB, cuda: true }).map(name)).toEqual(['1x1', '2x1']);
  });
});

describe('tuneLayouts', () => {
  it('picks the most tokens/s over the batch sizes (geometric mean) and gives its ratio to each other layout', async () => {
    // 1x2 wins batch 1, 2x1 wins batch 16 by more: 2x1's mean is higher.
    const { measure } = fakeMeasure({ '2x1': [{ '16': 180, '1': 30 }], '1x2': [{ '16': 120, '1': 32 }] });
    const result = await tuneLayouts([{ workers: 2, intraOpThreads: 1 }, { workers: 1, intraOpThreads: 2 }], measure, 1);
    expect(result.winner).toEqual({ workers: 2, intraOpThreads: 1, name: '2x1' });
    expect(result.layouts['2x1']).toEqual({ tokensPerSec: { '16': 180, '1': 30 }, score: 73.48 });
    expect(result.layouts['1x2']!.score).toBe(61.97);
    expect(result.ratios).toEqual({ '1x2': 1.19 });
    expect(result.provider).toBe('cpu');
  });

  it("interleaves the rounds, records the median of each figure, and decides by each round's own ratios", async () => {
    // Round 3 slowed 2x1 alone (or sped up 1x2): the medians of the figures would pick 1x2
    // (30 against 90), the rounds' own ratios pick 2x1 (1.11x in two rounds of three).
    const { measure, asked } = fakeMeasure({
      '2x1': [{ '16': 100 }, { '16': 30 }, { '16': 30 }],
      '1x2': [{ '16': 90 }, { '16': 27 }, { '16': 95 }],
    });
    const result = await tuneLayouts([{ workers: 2, intraOpThreads: 1 }, { workers: 1, intraOpThreads: 2 }], measure, 3);
    expect(asked).toEqual(['2x1', '1x2', '2x1', '1x2', '2x1', '1x2']);
    expect(result.layouts['2x1']!.tokensPerSec).toEqual({ '16': 30 });
    expect(result.layouts['1x2']!.tokensPerSec).toEqual({ '16': 90 });
    expect(result.winner.name).toBe('2x1');
    expect(result.ratios).toEqual({ '1x2': 1.11 });
  });

  it('ranks three or more layouts by their standing within each round', async () => {
    // The load halves every round; 4x1 stays ahead of 2x2, which stays ahead of 1x4.
    const { measure } = fakeMeasure({
      '4x1': [{ '16': 400 }, { '16': 200 }, { '16': 100 }],
      '2x2': [{ '16': 300 }, { '16': 150 }, { '16': 75 }],
      '1x4': [{ '16': 200 }, { '16': 100 }, { '16': 50 }],
    });
    const layouts = [{ workers: 4, intraOpThreads: 1 }, { workers: 2, intraOpThreads: 2 }, { workers: 1, intraOpThreads: 4 }];
    const result = await tuneLayouts(layouts, measure, 3);
    expect(result.winner.name).toBe('4x1');
    expect(result.ratios).toEqual({ '2x2': 1.33, '1x4': 2 });
  });

  it('keeps the earlier candidate on a tie and gives no ratio against a layout that generated nothing', async () => {
    const tie = fakeMeasure({ '2x1': [{ '16': 50 }], '1x2': [{ '16': 50 }] });
    expect((await tuneLayouts([{ workers: 2, intraOpThreads: 1 }, { workers: 1, intraOpThreads: 2 }], tie.measure, 1)).winner.name).toBe('2x1');
    const dead = fakeMeasure({ '2x1': [{ '16': 0 }], '1x2': [{ '16': 50 }] });
    const result = await tuneLayouts([{ workers: 2, intraOpThreads: 1 }, { workers: 1, intraOpThreads: 2 }], dead.measure, 1);
    expect(result.winner.name).toBe('1x2');
    expect(result.ratios).toEqual({});
  });

  it('refuses an empty candidate list', async () => {
    await expect(tuneLayouts([], fakeMeasure({}).measure, 1)).rejects.toThrow(/no candidate layouts/);
  });
});

describe('the tuning workload', () => {
  it('gives every worker of the widest layout its own batches, from the bundled samples', () => {
    expect(promptCountAt(16, 2)).toBe(32);
    expect(promptCountAt(1, 2)).toBe(4);
    const prompts = tunePrompts(80);
    expect(prompts).toHaveLength(80);
    expect(new Set(prompts).size).toBe(72); // 24 samples x 3 kinds, then around again
    expect(prompts[72]).toBe(prompts[0]);
  });
});
