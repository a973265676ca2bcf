import { describe, expect, it } from 'vitest';
import type { Annotation, AugmentedSample } from '../../src/records/types.js';
import { buildSequence, parseKinds, sequencesOf } from '../../src/student-feed/sequences.js';

const note = (text: string): Annotation => ({ text, modelId: 'm', promptTokens: 1, generatedTokens: 1, finishReason: 'eos' });

function sample(patch: Partial<AugmentedSample> = {}): AugmentedSample {
  return {
    id: 'creak-1',
    task: 'CREAK',
    question: 'Is the following sentence plausible? Eating soup means eating only solids. (A) True (B) False',
    answer: '(B)',
    context: null,
    metadata: {},
    fundamentals: note('Soup is a liquid food.'),
    chainOfThought: note('Soup is mostly liquid. So the answer is (B).'),
    commonMistakes: note('Thinking of chunky soups as solid.'),
    source: { topic: 't', partition: 0, offset: 0 },
    sourceTimestamp: 0,
    augmentedAt: 0,
    ...patch,
  };
}

describe('training sequences', () => {
  it('are the whole teacher text in the reference format, one per kind', () => {
    expect(sequencesOf(sample(), ['cot', 'fundamentals', 'mistakes'])).toEqual([
      {
        id: 'creak-1',
        task: 'CREAK',
        kind: 'cot',
        text: "Q: Is the following sentence plausible? Eating soup means eating only solids. (A) True (B) False A: The answer is (B). Let's think step by step. Soup is mostly liquid. So the answer is (B).",
      },
      {
        id: 'creak-1',
        task: 'CREAK',
        kind: 'fundamentals',
        text: 'Q: Is the following sentence plausible? Eating soup means eating only solids. (A) True (B) False A: The answer is (B). The fundamental of this question is: Soup is a liquid food.',
      },
      {
        id: 'creak-1',
        task: 'CREAK',
        kind: 'mistakes',
        text: 'Q: Is the following sentence plausible? Eating soup means eating only solids. (A) True (B) False A: The answer is (B). The common mistakes are: Thinking of chunky soups as solid.',
      },
    ]);
  });

  it("clean whitespace as the reference does: one pass of replace('  ', ' '), trailing spaces stripped", () => {
    // Four spaces become two (one non-overlapping pass), not one; an empty annotation leaves no trailing space.
    expect(buildSequence({ question: 'Is it?  (A) True    (B) False', answer: '(A)', context: null }, 'cot', 'Because  so.  ')).toBe(
      "Q: Is it? (A) True  (B) False A: The answer is (A). Let's think step by step. Because so.",
    );
    expect(buildSequence({ question: 'Is it? (A) True (B) False', answer: '(A)', context: null }, 'mistakes', '')).toBe(
      'Q: Is it? (A) True (B) False A: The answer is (A). The common mistakes are:',
    );
  });

  it('put a context before the question, and leave out kinds the teacher did not write', () => {
    const seqs = sequencesOf(sample({ context: 'Soup is served hot.', chainOfThought: null }), ['cot', 'mistakes']);
    expect(seqs.map((s) => s.kind)).toEqual(['mistakes']);
    expect(seqs[0]!.text.startsWith('Q: Soup is served hot. Is the following')).toBe(true);
  });

  it('take --kinds from the three annotation kinds, naming a bad one', () => {
    expect(parseKinds('cot,mistakes')).toEqual(['cot', 'mistakes']);
    expect(() => parseKinds('cot,answers')).toThrow("--kinds: unknown kind 'answers'");
    expect(() => parseKinds('cot,cot')).toThrow('named twice');
  });
});
