import { describe, expect, it } from 'vitest';
import { isTeacherlmError } from '../../src/errors.js';
import { parseTopology } from '../../src/pipeline/topology.js';
import { DEFAULT_QUALITY, parseQuality } from '../../src/quality/quality-options.js';

const topology = (quality: unknown) => ({
  input: { topic: 'in' },
  output: { topic: 'out' },
  deadLetter: { topic: 'dlq' },
  consumer: { group: 'g' },
  teachers: [{ annotation: 'cot', model: 'models/m' }],
  ...(quality === undefined ? {} : { quality }),
});

describe('the quality: section', () => {
  it('is off when absent, and on with the defaults when empty', () => {
    expect(parseTopology(topology(undefined)).quality).toBeUndefined();
    expect(parseTopology(topology(null)).quality).toEqual(DEFAULT_QUALITY);
    expect(parseTopology(topology({})).quality).toEqual(DEFAULT_QUALITY);
  });

  it('reads every field, with minWords for all kinds or per kind', () => {
    const q = parseQuality({
      checks: { minWords: 5, repeatWords: 8, maxRepeatedNgramShare: 0.3, repetitionNgram: 3, truncated: false, minNovelWords: 0, contradiction: false },
      attempts: 1,
      regenerateTemperature: 1.2,
      onFailure: 'dead-letter',
    });
    expect(q).toEqual({
      checks: { minWords: { fundamentals: 5, cot: 5, mistakes: 5 }, repeatWords: 8, maxRepeatedNgramShare: 0.3, repetitionNgram: 3, truncated: false, minNovelWords: 0, contradiction: false },
      attempts: 1,
      regenerateTemperature: 1.2,
      onFailure: 'dead-letter',
    });
    expect(parseQuality({ checks: { minWords: { cot: 12 } } })?.checks.minWords).toEqual({ fundamentals: 8, cot: 12, mistakes: 8 });
    // The n-gram share is off unless set; the verbatim repeat is on at 6 words.
    expect(parseQuality({})?.checks).toMatchObject({ repeatWords: 6 });
    expect(parseQuality({})?.checks).not.toHaveProperty('maxRepeatedNgramShare');
  });

  it.each([
    [{ attempts: 0 }, 'quality.attempts: expected a positive integer, got 0'],
    [{ onFailure: 'ignore' }, 'quality.onFailure: expected one of keep, drop, dead-letter, got "ignore"'],
    [{ checks: { maxRepeatedNgramShare: 2 } }, 'quality.checks.maxRepeatedNgramShare: expected a number from 0 to 1, got 2'],
    [{ checks: { repeatWords: 0 } }, 'quality.checks.repeatWords: expected a positive integer, got 0'],
    [{ checks: { minWords: { cot: -1 } } }, 'quality.checks.minWords.cot: expected a non-negative integer, got -1'],
    [{ checks: { minWords: { reasoning: 3 } } }, 'quality.checks.minWords.reasoning: unknown field (known: fundamentals, cot, mistakes)'],
    [{ checks: { contradiction: 'yes' } }, 'quality.checks.contradiction: expected true or false, got "yes"'],
    [{ regenerateTemperature: 0 }, 'quality.regenerateTemperature: expected a number above 0 and at most 5, got 0'],
    [{ gate: true }, 'quality.gate: unknown field'],
  ])('refuses %j, naming the field', (quality, message) => {
    let caught: unknown;
    try {
      parseTopology(topology(quality));
    } catch (err) {
      caught = err;
    }
    expect(isTeacherlmError(caught) && caught.code).toBe('INVALID_TOPOLOGY');
    expect((caught as Error).message).toContain(message);
  });
});
