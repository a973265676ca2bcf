import { describe, expect, it } from 'vitest';
import { repeatedNgramShare } from '../../../src/quality/repetition.js';
import {
  chooseThreshold, compressionGain, longestRepeatedSpan, ngramShare, repeatedSentenceWords, repeatedTailShare, repeatedWordCoverage, repeatWords, wordRuns,
} from '../../../tools/quality/repetition-variants.js';

const LOOP = 'The answer is (A). The answer is (A). The answer is (A). The answer is (A).';

describe('the repetition variants', () => {
  it('drops list and step markers as boundaries, keeping an option letter inside a sentence', () => {
    expect(wordRuns('Step 1: Identify the subject. Step 2: Find the verb.', 'boundary')).toEqual([['identify', 'the', 'subject'], ['find', 'the', 'verb']]);
    expect(wordRuns('1. Soup is wet.\n2. Soup is hot.\n(C) Done', 'boundary')).toEqual([['soup', 'is', 'wet'], ['soup', 'is', 'hot'], ['done']]);
    expect(wordRuns(LOOP, 'boundary')).toEqual([['the', 'answer', 'is', 'a', 'the', 'answer', 'is', 'a', 'the', 'answer', 'is', 'a', 'the', 'answer', 'is', 'a']]);
    expect(wordRuns('1. Soup is wet.', 'kept')).toEqual([['1', 'soup', 'is', 'wet']]);
  });

  it("with markers kept, the n-gram share is the gate's own measure", () => {
    expect(ngramShare(LOOP, '', 4, 'kept')).toBe(repeatedNgramShare(LOOP, 4));
    // Split at the markers, the items have one 3-gram each, the second a repeat; kept, the
    // numbers sit inside the 3-grams: '1 soup is wet 2 soup is wet' has 6, one a repeat.
    expect(ngramShare('1. Soup is wet.\n2. Soup is wet.', '', 3, 'boundary')).toBe(1 / 2);
    expect(ngramShare('1. Soup is wet.\n2. Soup is wet.', '', 3, 'kept')).toBeCloseTo(1 / 6, 12);
  });

  it('measures the words inside repeats, the longest repeated span and a repeated tail', () => {
    // 16 words; every 4-gram from the 5th word on repeats one before: words 5 to 16 are covered.
    expect(repeatedWordCoverage(LOOP, '', 4, 'kept')).toBe(12 / 16);
    expect(longestRepeatedSpan(LOOP, '', 'kept')).toBe(8); // two non-overlapping copies of 8 words
    expect(repeatedTailShare(LOOP, '', 'kept')).toBe(8 / 16);
    const prose = 'Soup is a liquid dish, often with pieces of vegetables or meat in it.';
    expect([repeatedWordCoverage(prose, '', 4, 'kept'), longestRepeatedSpan(prose, '', 'kept'), repeatedTailShare(prose, '', 'kept')]).toEqual([0, 0, 0]);
    // A span made only of the question's words is quoting, not looping.
    expect(longestRepeatedSpan(LOOP, 'the answer is (A)', 'kept')).toBe(0);
  });

  it('measures compression, sentences said again and the gate\'s repeat as numbers', () => {
    const prose = 'Soup is a liquid dish, often with pieces of vegetables or meat in it.';
    expect(compressionGain(LOOP)).toBeGreaterThan(compressionGain(prose) + 0.3);
    expect(repeatedSentenceWords(LOOP)).toBe(4);
    expect(repeatedSentenceWords(prose)).toBe(0);
    // Its words are all stopwords, so no run counts twice; the longest said three times is the
    // 4-word sentence: 4, and 99 with sentences said three times counted.
    expect(repeatWords(LOOP, '', false)).toBe(4);
    expect(repeatWords(LOOP, '', true)).toBe(99);
    expect(repeatWords(prose, '', true)).toBe(0);
  });

  it('chooses the threshold in the middle of the gap that separates the classes best', () => {
    const dev = [{ value: 0.1, looping: false }, { value: 0.2, looping: false }, { value: 0.5, looping: true }, { value: 0.6, looping: true }];
    expect(chooseThreshold(dev)).toMatchObject({ threshold: 0.35, tuning: { tp: 2, fp: 0, fn: 0, precision: 1, recall: 1 } });
  });
});
