import { describe, expect, it } from 'vitest';
import { recordCodecs } from '../../src/records/codecs.js';
import type { AugmentedSample, DeadLetter } from '../../src/records/types.js';
import { decodeOutputRecord } from '../../src/records/output-record.js';
import { TeacherlmError } from '../../src/errors.js';
import type { RecordCodecs } from '../../src/records/codecs.js';

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

  it("tells an unknown writer schema by the error's detail, not its message", () => {
    const unknown = () => {
      throw new TeacherlmError('DECODE_FAILED', 'no such fingerprint', { detail: 'unknown-writer-schema' });
    };
    const fake = { ...codecs, augmentedSample: { ...codecs.augmentedSample, decode: unknown } } as unknown as RecordCodecs;
    expect(decodeOutputRecord(codecs.deadLetter.encode(deadLetter), fake)).toMatchObject({ kind: 'dead-letter' });
    // A decode failure of another kind is the record's own: it is not passed over.
    const broken = { ...codecs, augmentedSample: { decode: () => { throw new TeacherlmError('DECODE_FAILED', 'unknown writer schema, says the text'); } } } as unknown as RecordCodecs;
    expect(() => decodeOutputRecord(codecs.deadLetter.encode(deadLetter), broken)).toThrow('unknown writer schema, says the text');
  });
});
