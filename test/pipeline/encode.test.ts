import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { encode, SOURCE_HEADER } from '../../src/pipeline/encode.js';
import type { Finished } from '../../src/pipeline/items.js';
import { deadLetterFor } from '../../src/pipeline/dead-letter.js';
import { recordCodecs } from '../../src/records/codecs.js';
import type { AugmentedSample } from '../../src/records/types.js';
import { sourceRecord } from './fakes.js';

const codecs = recordCodecs();
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function augmented(id: string, offset: number): Finished {
  const record = { ...sourceRecord(offset, 'x', 2), headers: { traceparent: Buffer.from(traceparent) } };
  const value: AugmentedSample = {
    id, task: 't', question: 'q', answer: 'a', context: null, metadata: {}, fundamentals: null, chainOfThought: null, commonMistakes: null,
    source: { topic: 'in', partition: 2, offset }, sourceTimestamp: 1, augmentedAt: 2,
  };
  return { kind: 'augmented', record, value };
}

describe('encode', () => {
  it('keys augmented samples by id, with source coordinates and trace context in headers', () => {
    const items = {
      a: augmented('s1', 5),
      d: deadLetterFor(sourceRecord(6, 'junk'), { stage: 'decode', error: new Error('bad'), attempts: 1, now: 3 }),
      x: { ...augmented('s3', 7), value: { ...(augmented('s3', 7).value as AugmentedSample), task: 42 as unknown as string } } as Finished,
    };
    const results: unknown[] = [];
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, expectObservable }) => {
      const out = cold('adx|', items).pipe(encode({ codecs, outputTopic: 'out', deadLetterTopic: 'dlq', scheduler }));
      out.subscribe((e) => results.push(e));
      expectObservable(out).toBe('abc|', {
        a: expect.objectContaining({ kind: 'augmented', out: expect.objectContaining({ topic: 'out', key: 's1' }) }),
        b: expect.objectContaining({ kind: 'dead-letter', out: expect.objectContaining({ topic: 'dlq', key: Buffer.from('k6') }) }),
        c: expect.objectContaining({ kind: 'dead-letter', out: expect.objectContaining({ topic: 'dlq', key: 's3' }) }),
      });
    });
    const [a, d, x] = results as { out: { value: Buffer; headers: Record<string, string | Buffer> } }[];
    expect(a?.out.headers[SOURCE_HEADER]).toBe('in/2/5');
    expect(String(a?.out.headers.traceparent)).toBe(traceparent);
    expect(codecs.augmentedSample.decode(a?.out.value as Buffer).id).toBe('s1');
    expect(codecs.deadLetter.decode(d?.out.value as Buffer)).toMatchObject({ errorCode: 'DECODE_FAILED', errorMessage: 'bad', value: Buffer.from('junk') });
    expect(codecs.deadLetter.decode(x?.out.value as Buffer)).toMatchObject({ errorCode: 'ENCODE_FAILED', stage: 'encode', sampleId: 's3', failedAt: 2 });
  });
});
