import { describe, expect, it } from 'vitest';
import { renderResults, wrap } from '../../src/demo/render-results.js';
import type { DemoOutcome } from '../../src/demo/watch-results.js';
import type { AugmentedSample } from '../../src/records/types.js';

const sample: AugmentedSample = {
  id: 'dev_0',
  task: 'CREAK',
  question: 'Eating soup means eating only solids. (A) True (B) False',
  answer: '(B)',
  context: null,
  metadata: {},
  fundamentals: { text: 'Soup is mostly liquid.', modelId: 'm', promptTokens: 30, generatedTokens: 6, finishReason: 'eos' },
  chainOfThought: { text: 'Soup is a liquid food,\nso the sentence is false.', modelId: 'm', promptTokens: 30, generatedTokens: 64, finishReason: 'length' },
  commonMistakes: null,
  source: { topic: 'samples.raw', partition: 0, offset: 0 },
  sourceTimestamp: 0,
  augmentedAt: 0,
};

describe('wrap', () => {
  it('wraps words at the width and keeps paragraphs', () => {
    expect(wrap('aaa bbb ccc\nddd', '  ', 9)).toBe('  aaa bbb\n  ccc\n  ddd');
    expect(wrap('  ', '  ')).toBe('  (empty)');
  });
});

describe('renderResults', () => {
  it('prints question, answer and the three explanations in file order, and what is missing', () => {
    const outcomes = new Map<string, DemoOutcome>([
      ['dev_0', { kind: 'augmented', record: sample }],
      [
        'dev_2',
        {
          kind: 'dead-letter',
          record: {
            key: null,
            value: null,
            errorCode: 'GENERATION_FAILED',
            errorMessage: 'boom',
            stage: 'generate',
            sampleId: 'dev_2',
            source: sample.source,
            sourceTimestamp: 0,
            attempts: 3,
            failedAt: 0,
          },
        },
      ],
    ]);
    expect(renderResults(['dev_0', 'dev_1', 'dev_2'], outcomes)).toBe(
      [
        '[1/3] dev_0  (CREAK)',
        '  Question: Eating soup means eating only solids. (A) True (B) False',
        '  Answer:   (B)',
        '  Fundamentals:',
        '    Soup is mostly liquid.',
        '  Chain of thought [cut at the token limit]:',
        '    Soup is a liquid food,',
        '    so the sentence is false.',
        '  Common mistakes: (not generated)',
        '',
        '[2/3] dev_1',
        '  (no result)',
        '',
        '[3/3] dev_2',
        '  dead-lettered at generate after 3 attempt(s): GENERATION_FAILED: boom',
      ].join('\n'),
    );
  });
});

describe('renderResults with a quality gate', () => {
  it("shows each annotation's gate outcome beside its label", () => {
    const gated: AugmentedSample = {
      ...sample,
      fundamentals: { ...sample.fundamentals!, quality: { passed: true, failedChecks: [], attempts: 1, repairs: [] } },
      commonMistakes: { ...sample.fundamentals!, finishReason: 'length', quality: { passed: true, failedChecks: [], attempts: 2, repairs: ['trimmed'] } },
      chainOfThought: { ...sample.chainOfThought!, quality: { passed: false, failedChecks: ['truncated', 'contradiction'], attempts: 3, repairs: [] } },
    };
    const text = renderResults(['dev_0'], new Map<string, DemoOutcome>([['dev_0', { kind: 'augmented', record: gated }]]));
    expect(text).toContain('  Fundamentals [passed]:\n');
    expect(text).toContain('  Chain of thought [cut at the token limit] [failed: truncated, contradiction; 3 attempts]:\n');
    expect(text).toContain('  Common mistakes [cut at the token limit] [passed; 2 attempts; trimmed to its last sentence]:\n');
  });
});
