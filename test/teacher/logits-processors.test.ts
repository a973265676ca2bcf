import { describe, expect, it } from 'vitest';
import { applyLogitsProcessors, hasLogitsProcessors } from '../../src/teacher/logits-processors.js';
import type { GenerationOptions } from '../../src/teacher/types.js';

const base: GenerationOptions = { maxNewTokens: 8, temperature: 0 };

function apply(logits: number[], options: Partial<GenerationOptions>, prompt: number[], generated: number[], eos: number[] = [], badWordIds?: number[][]): number[] {
  // A second row before this one: the processors touch only [offset, offset + vocab).
  const vocab = logits.length;
  const data = Float32Array.from([...logits.map(() => 7), ...logits]);
  applyLogitsProcessors(data, vocab, vocab, { ...base, ...options }, { prompt, generated, ...(badWordIds ? { badWordIds } : {}) }, eos);
  expect(Array.from(data.subarray(0, vocab))).toEqual(logits.map(() => 7));
  return Array.from(data.subarray(vocab));
}

describe('logits processors', () => {
  it('are off unless set (a penalty of 1 and sizes of 0 are off)', () => {
    expect(hasLogitsProcessors(base)).toBe(false);
    expect(hasLogitsProcessors({ ...base, repetitionPenalty: 1, noRepeatNgramSize: 0, minNewTokens: 0 })).toBe(false);
    expect(hasLogitsProcessors({ ...base, repetitionPenalty: 1.2 })).toBe(true);
    expect(hasLogitsProcessors({ ...base, noRepeatNgramSize: 3 })).toBe(true);
    expect(hasLogitsProcessors({ ...base, minNewTokens: 2 })).toBe(true);
    expect(hasLogitsProcessors({ ...base, badWords: [] })).toBe(false);
    expect(hasLogitsProcessors({ ...base, badWords: ['(C'] })).toBe(true);
  });

  it('penalize every token of the sequence once, prompt included, as transformers does (divide positives, multiply negatives)', () => {
    // Token 1 occurs twice: still penalized once. Token 3 never occurs.
    expect(apply([2, 3, -1, 4], { repetitionPenalty: 2 }, [1, 2], [1])).toEqual([2, 1.5, -2, 4]);
  });

  it('ban the token that would complete an n-gram already in the sequence', () => {
    // Sequence 0 1 2 0 1: the 3-gram "0 1 2" exists, so after "0 1" token 2 is banned.
    expect(apply([1, 1, 1, 1], { noRepeatNgramSize: 3 }, [0, 1, 2], [0, 1])).toEqual([1, 1, -Infinity, 1]);
    // Size 1 bans every token seen; size larger than the sequence bans nothing.
    expect(apply([1, 1, 1, 1], { noRepeatNgramSize: 1 }, [3], [1])).toEqual([1, -Infinity, 1, -Infinity]);
    expect(apply([1, 1, 1, 1], { noRepeatNgramSize: 4 }, [0], [1])).toEqual([1, 1, 1, 1]);
  });

  it('ban end-of-sequence until minNewTokens were generated', () => {
    expect(apply([5, 1, 1], { minNewTokens: 2 }, [1], [2], [0])).toEqual([-Infinity, 1, 1]);
    expect(apply([5, 1, 1], { minNewTokens: 2 }, [1], [2, 2], [0])).toEqual([5, 1, 1]);
  });

  it('ban the last token of a banned sequence when its other tokens end the sequence, as bad_words_ids does', () => {
    const bad = { badWords: ['(C', 'x'] };
    // "(" "C" is [1, 2]; token 3 alone is banned everywhere.
    expect(apply([1, 1, 1, 1], bad, [0], [1], [], [[1, 2], [3]])).toEqual([1, 1, -Infinity, -Infinity]);
    expect(apply([1, 1, 1, 1], bad, [0], [0], [], [[1, 2], [3]])).toEqual([1, 1, 1, -Infinity]);
    // The prompt counts: a sequence ending in the prompt's last token bans too.
    expect(apply([1, 1, 1, 1], bad, [0, 1], [], [], [[1, 2]])).toEqual([1, 1, -Infinity, 1]);
  });
});
