import { describe, expect, it } from 'vitest';
import type { AugmentedSample, DeadLetter } from '../../src/records/types.js';
import { toJsonLine } from '../../src/tail/json-line.js';

const source = { topic: 'samples.raw', partition: 1, offset: 42 };

const augmented: AugmentedSample = {
  id: 's1',
  task: 'CREAK',
  question: 'Q? (A) True (B) False',
  answer: '(A)',
  context: null,
  metadata: {},
  fundamentals: { text: 'F', modelId: 'm', promptTokens: 10, generatedTokens: 3, finishReason: 'eos' },
  chainOfThought: null,
  commonMistakes: null,
  source,
  sourceTimestamp: 1,
  augmentedAt: 2,
};

const deadLetter: DeadLetter = {
  key: Buffer.from('k'),
  value: Buffer.from([0xff, 0x00]),
  errorCode: 'DECODE_FAILED',
  errorMessage: 'bad',
  stage: 'decode',
  sampleId: null,
  source,
  sourceTimestamp: 1,
  attempts: 1,
  failedAt: 3,
};

describe('toJsonLine', () => {
  it('prints bytes as text when UTF-8, else base64', () => {
    expect(JSON.parse(toJsonLine(deadLetter))).toMatchObject({ key: 'k', value: { base64: '/wA=' }, source });
    expect(JSON.parse(toJsonLine(augmented))).toEqual(augmented);
  });
});
