import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/pipeline/decode.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { sourceRecord } from './fakes.js';

const codec = recordCodecs().rawSample;
const good = { id: 's1', task: 'CREAK', question: 'q', answer: 'a', context: null, metadata: {} };

describe('decode', () => {
  it('decodes Avro and JSON, dead-letters the rest and goes on', () => {
    const records = {
      a: sourceRecord(0, codec.encode(good)),
      j: sourceRecord(1, JSON.stringify({ id: 's2', task: 't', question: 'q', answer: 'a' })),
      x: sourceRecord(2, 'not json'),
      v: sourceRecord(3, JSON.stringify({ id: 's4', task: 't', question: true, answer: 'a' })),
      n: sourceRecord(4, null),
    };
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, expectObservable }) => {
      const out = cold('ajxvn|', records).pipe(decode({ format: 'auto', codec, now: () => 42 }));
      expectObservable(out).toBe('abcde|', {
        a: { kind: 'sample', record: records.a, sample: expect.objectContaining(good) },
        b: { kind: 'sample', record: records.j, sample: { ...good, id: 's2', task: 't' } },
        c: { kind: 'dead-letter', record: records.x, value: expect.objectContaining({ errorCode: 'DECODE_FAILED', stage: 'decode', value: records.x.value, key: records.x.key, attempts: 1, failedAt: 42, source: { topic: 'in', partition: 0, offset: 2 } }) },
        d: { kind: 'dead-letter', record: records.v, value: expect.objectContaining({ errorCode: 'INVALID_SAMPLE', errorMessage: 'question: expected a non-empty string, got true' }) },
        e: { kind: 'dead-letter', record: records.n, value: expect.objectContaining({ errorCode: 'DECODE_FAILED', errorMessage: 'empty record value' }) },
      });
    });
  });
});
