import { describe, expect, it, vi } from 'vitest';
import { chooseLayout, describeLayout, describeTuning } from '../../../src/teacher/tuning/layout-choice.js';
import type { MachineFacts } from '../../../src/teacher/engine-layout.js';
import type { TuningLookup } from '../../../src/teacher/tuning/tuning-file.js';
import { tuningFor } from '../support/tuning.js';

const GiB = 2 ** 30;
const facts = (over: Partial<MachineFacts> = {}): MachineFacts => ({ cores: 2, memoryBytes: 24 * GiB, sessionBytes: 0.5 * GiB, cuda: false, ...over });
const tuned = (over = {}): TuningLookup => ({ status: 'tuned', path: '/c/tune/k.json', tuning: { ...tuningFor(), ...over } });
const ignored: TuningLookup = { status: 'ignored', path: '/c/tune/k.json', reason: 'stale: measured with onnxruntime-node 1.29.0, now 1.30.0' };
const none: TuningLookup = { status: 'none', path: '/c/tune/k.json' };

describe('chooseLayout', () => {
  it("uses a tuning when workers and threads are auto, and says when it was measured and by how much it won", () => {
    const choice = chooseLayout('auto', 'auto', facts(), () => [tuned()]);
    expect(choice).toEqual({
      layout: { workers: 1, intraOpThreads: 2 },
      source: 'tuned',
      reason: 'tuned on 2026-12-01: 1x2 1.40x 2x1 (/c/tune/k.json)',
      warnings: [],
    });
    expect(chooseLayout('auto', undefined, facts(), () => [tuned()]).source).toBe('tuned');
  });

  it('falls back to the rule without a tuning, and warns about each one it ignored', () => {
    expect(chooseLayout('auto', 'auto', facts(), () => [none])).toMatchObject({
      layout: { workers: 2, intraOpThreads: 1 },
      source: 'rule',
      reason: expect.stringMatching(/^no tuning for this machine: the rule \(one single-threaded session per core/),
      warnings: [],
    });
    const choice = chooseLayout('auto', 'auto', facts(), () => [ignored, none]);
    expect(choice).toMatchObject({ layout: { workers: 2, intraOpThreads: 1 }, source: 'rule', reason: expect.stringMatching(/^no usable tuning/) });
    expect(choice.warnings).toEqual([
      "ignoring the layout tuning /c/tune/k.json: stale: measured with onnxruntime-node 1.29.0, now 1.30.0 ('teacherlm tune --model DIR' measures again)",
    ]);
    expect(chooseLayout('auto', 'auto', facts(), () => [])).toMatchObject({ source: 'rule', warnings: [] });
  });

  it('takes the first usable tuning in the order given (CUDA before the CPU under device auto)', () => {
    const cuda = tuned({ winner: { workers: 1, intraOpThreads: 2, name: '1x2' } });
    expect(chooseLayout('auto', 'auto', facts(), () => [ignored, cuda, tuned({ winner: { workers: 2, intraOpThreads: 1, name: '2x1' }, layouts: { '2x1': {} } })])).toMatchObject({
      layout: { workers: 1, intraOpThreads: 2 },
      warnings: [expect.stringContaining('stale')],
    });
  });

  it('honours explicit numbers without looking for a tuning', () => {
    const lookups = vi.fn(() => [tuned()]);
    expect(chooseLayout(2, 1, facts(), lookups)).toEqual({ layout: { workers: 2, intraOpThreads: 1 }, source: 'explicit', reason: '', warnings: [] });
    expect(chooseLayout(2, undefined, facts({ cores: 4 }), lookups)).toMatchObject({ layout: { workers: 2, intraOpThreads: 2 }, source: 'explicit' });
    expect(chooseLayout(3, 'auto', facts({ cores: 6 }), lookups)).toMatchObject({ layout: { workers: 3, intraOpThreads: 2 }, source: 'rule', reason: 'threads by the rule beside the explicit workers' });
    expect(chooseLayout('auto', 3, facts({ cores: 4 }), lookups)).toMatchObject({ layout: { workers: 4, intraOpThreads: 3 }, source: 'rule', reason: 'workers by the rule beside the explicit threads' });
    expect(lookups).not.toHaveBeenCalled();
  });

  it('describes layouts and tunings in words', () => {
    expect(describeLayout({ workers: 1, intraOpThreads: 2 })).toBe('1x2 (1 worker x 2 threads)');
    expect(describeLayout({ workers: 2, intraOpThreads: 1 })).toBe('2x1 (2 workers x 1 thread)');
    expect(describeTuning({ ...tuningFor(), ratios: {} })).toBe('tuned on 2026-12-01: 1x2 (the only layout measured)');
  });
});
