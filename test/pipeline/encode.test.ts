import { createHash } from 'node:crypto';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { encode, outputHeaders, SOURCE_HEADER } from '../../src/pipeline/encode.js';
import type { Finished } from '../../src/pipeline/items.js';
import { deadLetterFor } from '../../src/pipeline/dead-letter.js';
import { recordBytes } from '../../src/pipeline/record-size.js';
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

describe('encode under a record size limit', () => {
  const run = (items: Finished[], limit: number) => {
    const results: { kind: string; out: { topic: string; key: unknown; value: Buffer; headers: Record<string, string | Buffer> } }[] = [];
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold }) => {
      const letters = items.map((_, i) => String.fromCharCode(97 + i)).join('');
      cold(`${letters}|`, Object.fromEntries(items.map((item, i) => [String.fromCharCode(97 + i), item])))
        .pipe(encode({ codecs, outputTopic: 'out', deadLetterTopic: 'dlq', maxRecordBytes: () => limit }))
        .subscribe((e) => results.push(e as never));
    });
    return results;
  };

  it('dead-letters an augmented record above the limit as RECORD_TOO_LARGE, truncated to fit, with the original size and hash', () => {
    const big = augmented('huge', 9);
    const question = 'Q'.repeat(50_000);
    (big.value as AugmentedSample).question = question;
    big.record.value = Buffer.from(JSON.stringify({ id: 'huge', question }));
    const [small, dead] = run([augmented('s1', 8), big], 10_000);
    expect(small?.kind).toBe('augmented');
    expect(dead?.kind).toBe('dead-letter');
    expect(dead?.out.topic).toBe('dlq');
    expect(recordBytes(dead!.out as never)).toBeLessThanOrEqual(10_000);
    const letter = codecs.deadLetter.decode(dead!.out.value);
    expect(letter).toMatchObject({ errorCode: 'RECORD_TOO_LARGE', stage: 'encode', sampleId: 'huge' });
    expect(letter.originalValueSize).toBe(big.record.value.length);
    expect(letter.originalValueSha256).toBe(createHash('sha256').update(big.record.value).digest('hex'));
    expect(big.record.value.subarray(0, letter.value!.length).equals(letter.value!)).toBe(true);
    expect(letter.value!.length).toBeGreaterThan(5_000);
  });

  it('truncates a dead letter with a huge key and value (no sample id) to fit', () => {
    const record = { ...sourceRecord(3, Buffer.alloc(200_000, 7)), key: Buffer.alloc(100_000, 1) };
    const [dead] = run([deadLetterFor(record, { stage: 'decode', error: new Error('bad'), attempts: 1, now: 3 })], 20_000);
    expect(recordBytes(dead!.out as never)).toBeLessThanOrEqual(20_000);
    const letter = codecs.deadLetter.decode(dead!.out.value);
    expect(letter).toMatchObject({ errorCode: 'DECODE_FAILED', originalValueSize: 200_000 });
    expect(letter.key!.length).toBe(1024);
  });

  it('leaves records under the limit as they are (no size fields)', () => {
    const [dead] = run([deadLetterFor(sourceRecord(3, 'junk'), { stage: 'decode', error: new Error('bad'), attempts: 1, now: 3 })], 20_000);
    expect(codecs.deadLetter.decode(dead!.out.value)).toMatchObject({ value: Buffer.from('junk'), originalValueSize: null, originalValueSha256: null });
  });
});

describe('outputHeaders', () => {
  it('copies a valid W3C trace context and drops an invalid one, however large', () => {
    const withHeaders = (headers: Record<string, string | Buffer>) => outputHeaders({ ...sourceRecord(1, 'x'), headers });
    expect(withHeaders({ traceparent: Buffer.from(traceparent), tracestate: 'a=1' })).toMatchObject({ traceparent: Buffer.from(traceparent), tracestate: 'a=1' });
    const garbage = withHeaders({ traceparent: Buffer.alloc(50_000, 'z'), tracestate: Buffer.alloc(50_000, 'y') });
    expect(garbage).toEqual({ [SOURCE_HEADER]: 'in/0/1' });
    for (const bad of ['junk', `ff${traceparent.slice(2)}`, '00-00000000000000000000000000000000-00f067aa0ba902b7-01', `${traceparent}-extra`]) {
      expect(withHeaders({ traceparent: bad }).traceparent).toBeUndefined();
    }
    expect(withHeaders({ tracestate: 'a=\u0001' }).tracestate).toBeUndefined();
  });
});
