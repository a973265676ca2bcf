import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/pipeline/decode.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { ConfluentCodec } from '../../src/records/confluent-codec.js';
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
      const out = cold('ajxvn|', records).pipe(decode({ format: 'auto', codec, scheduler }));
      expectObservable(out).toBe('abcde|', {
        a: { kind: 'sample', record: records.a, sample: expect.objectContaining(good) },
        b: { kind: 'sample', record: records.j, sample: { ...good, id: 's2', task: 't' } },
        c: { kind: 'dead-letter', record: records.x, value: expect.objectContaining({ errorCode: 'DECODE_FAILED', stage: 'decode', value: records.x.value, key: records.x.key, attempts: 1, failedAt: 2, source: { topic: 'in', partition: 0, offset: 2 } }) },
        d: { kind: 'dead-letter', record: records.v, value: expect.objectContaining({ errorCode: 'INVALID_SAMPLE', errorMessage: 'question: expected a non-empty string, got true' }) },
        e: { kind: 'dead-letter', record: records.n, value: expect.objectContaining({ errorCode: 'DECODE_FAILED', errorMessage: 'empty record value' }) },
      });
    });
  });
});

describe('decode with a schema registry', () => {
  it('holds the records after one of a new schema id until its schema is fetched, keeping their order', async () => {
    let release!: () => void;
    const fetched = new Promise<void>((resolve) => (release = resolve));
    const lookups: number[] = [];
    const registry = {
      schemaById: async (id: number) => {
        lookups.push(id);
        await fetched;
        return JSON.stringify(codec.type.schema({ exportAttrs: true }));
      },
    };
    const writer = new ConfluentCodec(codec.type, 9, registry);
    const confluent = new ConfluentCodec<typeof good>(codec.type, undefined, registry);
    const input = new Subject<ReturnType<typeof sourceRecord>>();
    const out: string[] = [];
    let completed = false;
    input.pipe(decode({ format: 'auto', codec, confluent })).subscribe({
      next: (item) => out.push(item.kind === 'sample' ? item.sample.id : 'dead'),
      complete: () => (completed = true),
    });
    input.next(sourceRecord(0, JSON.stringify({ ...good, id: 'json-first' })));
    input.next(sourceRecord(1, writer.encode({ ...good, id: 'c1' })));
    input.next(sourceRecord(2, JSON.stringify({ ...good, id: 'json-after' })));
    input.next(sourceRecord(3, writer.encode({ ...good, id: 'c2' })));
    input.complete();
    expect(out).toEqual(['json-first']); // the rest wait for schema 9
    expect(completed).toBe(false);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(out).toEqual(['json-first', 'c1', 'json-after', 'c2']);
    expect(lookups).toEqual([9]);
    expect(completed).toBe(true);
  });
});
