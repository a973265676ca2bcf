/**
 * The detectors against 216 real annotations of the default teacher, labelled by hand
 * for each check (test/fixtures/quality/README.md). `npx tsx tools/quality/detector-scores.ts`
 * prints the whole table; this holds the floors the gate's defaults must keep.
 */
import { describe, expect, it } from 'vitest';
import { readLabelled, scores } from '../../tools/quality/detector-scores.js';

const all = readLabelled();
const byCheck = Object.fromEntries(scores(all, 'all').map((s) => [s.check, s]));

describe('the quality detectors on the labelled annotations', () => {
  it('hold at least 60 labelled annotations of every kind, split into dev and two held-out sets', () => {
    expect(all.length).toBeGreaterThanOrEqual(60);
    for (const kind of ['fundamentals', 'cot', 'mistakes']) expect(all.filter((a) => a.kind === kind).length).toBeGreaterThanOrEqual(20);
    expect(new Set(all.map((a) => a.split))).toEqual(new Set(['dev', 'test', 'test-2']));
  });

  it('find contradictions of the gold answer with precision and recall of at least 0.9', () => {
    expect(byCheck.contradiction!.positives).toBeGreaterThanOrEqual(20);
    expect(byCheck.contradiction!.precision).toBeGreaterThanOrEqual(0.9);
    expect(byCheck.contradiction!.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('find loops with precision of at least 0.8 and recall of at least 0.85', () => {
    // Measured: 0.82 and 0.87 (27 of 31). On the first 120 it was 0.94 and 0.89; the 96 labelled
    // later (test-2) gave 0.69 and 0.85: step-by-step templates ("Step 1: Identify the subject of
    // the sentence ...") repeat 4-grams without looping, and one idea said twice in other words
    // is no exact repeat. The goal is 0.9: not met. No other measure chosen on dev does
    // 0.9 and 0.9 held out either (tools/quality/repetition-variants.ts), so the floors stay.
    expect(byCheck.repetition!.precision).toBeGreaterThanOrEqual(0.8);
    expect(byCheck.repetition!.recall).toBeGreaterThanOrEqual(0.85);
  });

  it('measure length exactly, truncation at least 0.95, and restatement at least 0.8 both ways', () => {
    expect(byCheck['too-short']!.precision).toBe(1);
    expect(byCheck['too-short']!.recall).toBe(1);
    // Two texts of test-2 end on a list's next number ("... 2."): labelled cut, read as a sentence end.
    expect(byCheck.truncated!.precision).toBe(1);
    expect(byCheck.truncated!.recall).toBeGreaterThanOrEqual(0.95);
    expect(byCheck['restates-question']!.precision).toBeGreaterThanOrEqual(0.8);
    expect(byCheck['restates-question']!.recall).toBeGreaterThanOrEqual(0.8);
  });
});
