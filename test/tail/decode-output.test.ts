import { describe, expect, it } from 'vitest';
import { recordCodecs } from '../../src/records/codecs.js';
import type { AugmentedSample, DeadLetter } from '../../src/records/types.js';
import { decodeOutputRecord, toJsonLine } from '../../src/tail/decode-output.js';

const codecs = recordCodecs();
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

describe('decodeOutputRecord', () => {
  it('decodes augmented samples and dead letters by their writer schema', () => {
    expect(decodeOutputRecord(codecs.augmentedSample.encode(augmented), codecs)).toMatchObject({ kind: 'augmented', record: { id: 's1' } });
    expect(decodeOutputRecord(codecs.deadLetter.encode(deadLetter), codecs)).toMatchObject({
      kind: 'dead-letter',
      record: { errorCode: 'DECODE_FAILED' },
    });
  });

  it('rejects what is neither', () => {
    expect(() => decodeOutputRecord(codecs.rawSample.encode({ id: 'x', task: 't', question: 'q', answer: 'a', context: null, metadata: {} }), codecs)).toThrow(
      /neither an AugmentedSample nor a DeadLetter/,
    );
    expect(() => decodeOutputRecord(Buffer.from('{"id":1}'), codecs)).toThrow(/not an Avro single-object/);
    expect(() => decodeOutputRecord(null, codecs)).toThrow(/empty record value/);
  });
});

describe('toJsonLine', () => {
  it('prints bytes as text when UTF-8, else base64', () => {
    expect(JSON.parse(toJsonLine(deadLetter))).toMatchObject({ key: 'k', value: { base64: '/wA=' }, source });
    expect(JSON.parse(toJsonLine(augmented))).toEqual(augmented);
  });
});
