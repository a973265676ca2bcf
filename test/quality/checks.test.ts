import { describe, expect, it } from 'vitest';
import { checkAnnotation, failedChecks } from '../../src/quality/checks.js';
import { DEFAULT_QUALITY } from '../../src/quality/quality-options.js';
import { longestRepeat, repeatedNgramShare, sentenceWords } from '../../src/quality/repetition.js';
import { novelContentWords } from '../../src/quality/restatement.js';
import { cutMidSentence, trimToLastSentence } from '../../src/quality/truncation.js';
import { judge, repairedResult } from '../../src/quality/gate.js';
import { DEFAULT_QUALITY as QUALITY } from '../../src/quality/quality-options.js';
import { wordsOf } from '../../src/quality/words.js';

const Q = 'Determine the correctness of the following sentence. Eating soup means eating only solids. (A) True (B) False';

describe('the quality checks', () => {
  it('counts words without punctuation', () => {
    expect(wordsOf(' "A"  (B). soup, is-liquid! ')).toEqual(['a', 'b', 'soup', 'is-liquid']);
  });

  it('measures repeated n-grams: loops score high, prose low', () => {
    // 16 words, 13 4-grams, of which 9 repeat an earlier one.
    expect(repeatedNgramShare('The answer is (A). The answer is (A). The answer is (A). The answer is (A).', 4)).toBeCloseTo(9 / 13, 12);
    expect(repeatedNgramShare('Soup is a liquid dish, often with pieces of vegetables or meat in it.', 4)).toBe(0);
    expect(repeatedNgramShare('too short', 4)).toBe(0);
  });

  it("does not count a repeat of the question's own words as a loop", () => {
    const quoted = 'It says that eating soup means eating only solids, and eating soup means eating only solids is wrong.';
    expect(repeatedNgramShare(quoted, 4, Q)).toBe(0);
    expect(repeatedNgramShare(quoted, 4)).toBeCloseTo(3 / 15, 12); // the three 4-grams of 'eating soup means eating only solids', again
  });

  it('finds a loop in a run of 6 words said twice holding a word of its own', () => {
    expect(longestRepeat('The sentence is wrong because it is not a factual statement. It is untrue because it is not a factual statement about soup.', Q)).toMatchObject({
      loops: true, words: 7, times: 2, how: 'own', run: 'because it is not a factual statement',
    });
    // Five words are too few, and a template opener said twice (no word of its own) is no loop.
    expect(longestRepeat('Soup is mostly hot water, they say. Soup is mostly hot water and salt.', Q)).toMatchObject({ loops: false, words: 5, how: 'own' });
    expect(longestRepeat('The sentence is incorrect because the soup is wet. The sentence is incorrect because the soup is hot.', Q).loops).toBe(false);
    // A frame filled with the question's words twice is a template: "subject", "object" and the filler are no words of its own.
    const template = 'Step 1: Identify the subject of the sentence.\nThe subject of the sentence is "eating soup".\n\nStep 2: Determine the object of the sentence.\nThe object of the sentence is "eating soup".';
    expect(longestRepeat(template, Q).loops).toBe(false);
    expect(longestRepeat(template, '').loops).toBe(true); // without the question, "eating soup" is the text's own
  });

  it('finds a loop in any run of 6 words said three times, and in a sentence said again', () => {
    const quoting = 'Eating soup means eating only solids. Eating soup means eating only solids. Eating soup means eating only solids.';
    expect(longestRepeat(quoting.split('. ').slice(0, 2).join('. '), Q)).toMatchObject({ loops: true, how: 'sentence', times: 2 }); // 6 words, twice
    expect(longestRepeat('Eating soup means eating only solids, it says, and eating soup means eating only solids is wrong.', Q).loops).toBe(false);
    expect(longestRepeat(quoting, Q)).toMatchObject({ loops: true, times: 3 });
    // A short sentence loops when said three times, not twice.
    expect(longestRepeat('The answer is (A). Soup is wet. The answer is (A). Soup is a liquid. The answer is (A).', Q)).toMatchObject({ loops: true, how: 'sentence', times: 3, words: 4 });
    expect(longestRepeat('The answer is (A). Soup is wet. The answer is (A). Soup is a liquid.', Q).loops).toBe(false);
  });

  it('reads list numbers and step markers as no words, and a cut end as no sentence', () => {
    expect(sentenceWords('1. Soup is wet.\n2. Soup is hot. It is')).toEqual([['soup', 'is', 'wet'], ['soup', 'is', 'hot']]);
    expect(sentenceWords('Step 1: Soup is wet. Step 2: It is hot.')).toEqual([['soup', 'is', 'wet'], ['it', 'is', 'hot']]);
    // Across the markers, "soup is a liquid broth and" is one run of 6 words said twice.
    expect(longestRepeat('1. Soup is a liquid broth and water.\n2. Soup is a liquid broth and stock.', Q)).toMatchObject({ loops: true, words: 6, run: 'soup is a liquid broth and' });
  });

  it('counts content words beyond the question', () => {
    expect(novelContentWords('"Eating soup means eating only solids" is false.', Q, '(B)')).toBe(0);
    expect(novelContentWords('Soup is mostly water or broth, a liquid.', Q, '(B)')).toBe(4); // mostly, water, broth, liquid ('soup' and 'is' are the question's, 'a' and 'or' function words)
  });

  it('calls a text cut only when it stopped at the limit mid-sentence', () => {
    expect(cutMidSentence('Soup is a liquid and', 'length')).toBe(true);
    expect(cutMidSentence('Soup is a liquid.', 'length')).toBe(false);
    expect(cutMidSentence('Soup is a liquid."', 'length')).toBe(false);
    expect(cutMidSentence('Soup is a liquid and', 'eos')).toBe(false);
  });

  it('trims a cut text back to its last complete sentence, not at a decimal point', () => {
    expect(trimToLastSentence('Soup is a liquid. It is 3.5 parts water and')).toBe('Soup is a liquid.');
    expect(trimToLastSentence('Soup is "a liquid." It is')).toBe('Soup is "a liquid."');
    expect(trimToLastSentence('Soup is 3.5 parts water and')).toBeUndefined();
    // A list's next number opens an item, it ends nothing; a year before a full stop does.
    expect(trimToLastSentence('Soup is a liquid.\n\n2. It is')).toBe('Soup is a liquid.');
    expect(trimToLastSentence('1. Soup is a liquid.\n 2. It is')).toBe('1. Soup is a liquid.');
    expect(trimToLastSentence('It was served in 1985. It is')).toBe('It was served in 1985.');
  });

  it('with trimTruncated, judges the trimmed text by every check and records the repair', () => {
    const sample = { question: Q, answer: '(B)' };
    const spec = { ...QUALITY, trimTruncated: true };
    const cut = 'Soup is mostly water with bits of vegetables in it. Eating soup means drinking a liquid, so';
    const trimmed = judge(spec, 'fundamentals', cut, 'length', sample);
    expect(trimmed).toMatchObject({ passed: true, repairs: ['trimmed'], text: 'Soup is mostly water with bits of vegetables in it.' });
    expect(judge({ ...QUALITY }, 'fundamentals', cut, 'length', sample)).toMatchObject({ passed: false, repairs: [], text: cut });
    // The trimmed text must still pass the rest: two words are too short.
    expect(judge(spec, 'fundamentals', 'Soup is. Eating soup means drinking a liquid, so', 'length', sample)).toMatchObject({ passed: false, repairs: ['trimmed'] });
    // A text that ended by itself is never trimmed.
    expect(judge(spec, 'fundamentals', cut, 'eos', sample).repairs).toEqual([]);
    // The completion is cut where the annotation was: extracting it again gives the trimmed text.
    const result = { text: ` Fundamentals: ${cut}  `, finishReason: 'length' };
    expect(repairedResult(result, cut, trimmed)).toEqual({ text: 'Fundamentals: Soup is mostly water with bits of vegetables in it.', finishReason: 'length' });
  });

  it('runs the configured checks and names the failed ones', () => {
    const base = { kind: 'fundamentals' as const, question: Q, answer: '(B)' };
    const bad = checkAnnotation({ ...base, text: 'A', finishReason: 'eos' }, DEFAULT_QUALITY.checks);
    expect(failedChecks(bad)).toEqual(['too-short']);
    const restating = checkAnnotation({ ...base, text: 'True. Eating soup means eating only solids, which is not a factual statement.', finishReason: 'eos' }, DEFAULT_QUALITY.checks);
    expect(failedChecks(restating)).toEqual(['restates-question', 'contradiction']);
    const good = checkAnnotation(
      { ...base, text: 'Soup is a dish that is mostly water or broth, so eating it means taking in a liquid.', finishReason: 'eos' },
      DEFAULT_QUALITY.checks,
    );
    expect(failedChecks(good)).toEqual([]);
    const wrong = checkAnnotation({ ...base, kind: 'cot', text: 'The answer is (A). Soup can be solid when frozen, as ice.', finishReason: 'eos' }, DEFAULT_QUALITY.checks);
    expect(wrong.find((r) => r.check === 'contradiction')).toMatchObject({ passed: false, detail: 'asserts (A): "answer is (a)"' });
    expect(checkAnnotation({ ...base, text: 'A', finishReason: 'eos' }, {})).toEqual([]);
    const looping = checkAnnotation({ ...base, text: 'Soup is a liquid dish of water. Soup is a liquid dish of water. Soup is a liquid dish.', finishReason: 'eos' }, DEFAULT_QUALITY.checks);
    expect(looping.find((r) => r.check === 'repetition')).toEqual({
      check: 'repetition', passed: false, value: 7, threshold: 6, detail: 'says "soup is a liquid dish of water" 2 times',
    });
    // The n-gram share, when set, fails it too: 4 of the 8 2-grams repeat one before.
    const share = checkAnnotation({ ...base, text: 'Soup is hot. Soup is hot. Soup is wet.', finishReason: 'eos' }, { repeatWords: 6, maxRepeatedNgramShare: 0.1, repetitionNgram: 2 });
    expect(share).toEqual([{ check: 'repetition', passed: false, value: 3, threshold: 6, detail: 'repeated 2-gram share 0.50' }]);
  });
});
