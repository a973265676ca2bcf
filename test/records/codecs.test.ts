import { describe, expect, it } from 'vitest';
import { isTeacherlmError } from '../../src/errors.js';
import { recordCodecs } from '../../src/records/codecs.js';
import type { AugmentedSample, DeadLetter } from '../../src/records/types.js';

const codecs = recordCodecs();

describe('record codecs', () => {
  it('round-trip a RawSample', () => {
    const sample = { id: '1', task: 'CREAK', question: 'Is it? (A) True (B) False', answer: '(A)', context: null, metadata: { src: 'x' } };
    const bytes = codecs.rawSample.encode(sample);
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
    expect({ ...codecs.rawSample.decode(bytes) }).toEqual(sample);
  });

  it('round-trip an AugmentedSample with null and present annotations', () => {
    const record: AugmentedSample = {
      id: '1', task: 'CREAK', question: 'q', answer: 'a', context: 'ctx', metadata: {},
      fundamentals: { text: 'f', modelId: 'm', promptTokens: 5, generatedTokens: 4, finishReason: 'length', quality: null },
      chainOfThought: null,
      commonMistakes: {
        text: 'm', modelId: 'm', promptTokens: 6, generatedTokens: 1, finishReason: 'eos',
        quality: { passed: false, failedChecks: ['too-short', 'contradiction'], attempts: 3, repairs: ['trimmed'] },
      },
      source: { topic: 'samples.raw', partition: 2, offset: 123456789012 },
      sourceTimestamp: 1700000000000, augmentedAt: 1700000000500,
    };
    expect(JSON.parse(JSON.stringify(codecs.augmentedSample.decode(codecs.augmentedSample.encode(record))))).toEqual(record);
  });

  it('round-trip a DeadLetter keeping the original bytes', () => {
    const record: DeadLetter = {
      key: Buffer.from('k'), value: Buffer.from([0, 1, 2, 255]), errorCode: 'DECODE_FAILED', errorMessage: 'invalid JSON',
      stage: 'decode', sampleId: null, source: { topic: 't', partition: 0, offset: 1 }, sourceTimestamp: 1, attempts: 1, failedAt: 2,
      originalValueSize: 1_000_000, originalValueSha256: 'ab',
    };
    const decoded = codecs.deadLetter.decode(codecs.deadLetter.encode(record));
    expect({ ...decoded, source: { ...decoded.source } }).toEqual(record);
    expect(Buffer.isBuffer(decoded.value) && Buffer.isBuffer(decoded.key)).toBe(true);
  });

  it('fail with typed errors', () => {
    const bad = () => codecs.rawSample.encode({ id: 1 } as never);
    expect(bad).toThrow(/cannot encode/);
    const truncated = codecs.rawSample.encode({ id: '1', task: 't', question: 'q', answer: 'a', context: null, metadata: {} }).subarray(0, 14);
    try {
      codecs.rawSample.decode(truncated);
      expect.unreachable();
    } catch (err) {
      expect(isTeacherlmError(err, 'DECODE_FAILED')).toBe(true);
    }
  });
});
