import { describe, expect, it } from 'vitest';
import { draftTokens } from '../../src/teacher/prompt-lookup.js';

describe('draftTokens (prompt lookup)', () => {
  it('drafts what followed the last n-gram earlier in the prompt', () => {
    // ... 5 6 7 [8 9 10 11] ... 5 6 7 -> 8 9 10 11
    expect(draftTokens([1, 5, 6, 7, 8, 9, 10, 11, 2, 3], [5, 6, 7], 4)).toEqual([8, 9, 10, 11]);
  });

  it('looks through the generated tokens too, and stops at the sequence end', () => {
    expect(draftTokens([1, 2], [3, 4, 5, 3, 4], 4)).toEqual([5, 3, 4]);
  });

  it('takes the most recent earlier occurrence', () => {
    // 7 8 occurs twice before the tail: followed by 1 first, by 2 later.
    expect(draftTokens([7, 8, 1, 0, 7, 8, 2, 0], [7, 8], 1)).toEqual([2]);
  });

  it('prefers the longest n-gram that matches (3 down to 1)', () => {
    // The tail 4 5 6: as a trigram it matches at 0 (-> 100), while the unigram 6 alone
    // matches later (-> 200).
    expect(draftTokens([4, 5, 6, 100, 9, 6, 200, 9], [4, 5, 6], 1)).toEqual([100]);
    // Only the unigram 6 recurs: the most recent one's follower.
    expect(draftTokens([3, 6, 100, 9, 6, 200, 9], [6], 1)).toEqual([200]);
  });

  it('drafts nothing without a match, without room, or from a sequence of one token', () => {
    expect(draftTokens([1, 2, 3], [4], 4)).toEqual([]);
    expect(draftTokens([1, 2, 1], [2], 0)).toEqual([]);
    expect(draftTokens([1], [], 4)).toEqual([]);
  });

  it('honours the n-gram bounds', () => {
    // Only a unigram matches; with bigrams at least there is no draft.
    expect(draftTokens([5, 1, 9, 5], [], 2, 3, 2)).toEqual([]);
    expect(draftTokens([5, 1, 9, 5], [], 2, 3, 1)).toEqual([1, 9]);
  });
});
