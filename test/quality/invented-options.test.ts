import { describe, expect, it } from 'vitest';
import { generationForSample, inventedOptionWords } from '../../src/quality/invented-options.js';

const Q = 'Determine the correctness of the following sentence. Eating soup means eating only solids. (A) True (B) False';

describe('the invented-options guard', () => {
  it('bans the openings of every label the question does not offer, in both cases, after a space or not', () => {
    const words = inventedOptionWords(Q);
    expect(words).toContain('(C');
    expect(words).toContain(' (C');
    expect(words).toContain('(c');
    expect(words).toContain(' (z');
    expect(words.some((w) => /\(a|\(b/i.test(w))).toBe(false);
    expect(words).toHaveLength(24 * 4);
  });

  it('bans nothing for a question without options, and only when asked', () => {
    expect(inventedOptionWords('What is soup?')).toEqual([]);
    const generation = { maxNewTokens: 8, temperature: 0, badWords: ['Sorry'] };
    expect(generationForSample(generation, undefined, Q)).toBe(generation);
    expect(generationForSample(generation, true, 'What is soup?')).toBe(generation);
    const banned = generationForSample(generation, true, Q);
    expect(banned.badWords?.[0]).toBe('Sorry');
    expect(banned.badWords).toContain(' (C');
    expect(generation.badWords).toEqual(['Sorry']);
  });
});
