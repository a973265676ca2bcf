import { Subject, VirtualTimeScheduler } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/pipeline/decode.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { ConfluentCodec } from '../../src/records/confluent-codec.js';
import { sourceRecord } from './fakes.js';
import { TeacherlmError } from '../../src/errors.js';

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

  it('waits for a registry that does not answer, with a doubling backoff, instead of dead-lettering', async () => {
    const scheduler = new VirtualTimeScheduler();
    let failures = 3;
    const registry = {
      schemaById: async () => {
        if (failures-- > 0) throw new TeacherlmError('REGISTRY_UNREACHABLE', 'fetch failed');
        return JSON.stringify(codec.type.schema({ exportAttrs: true }));
      },
    };
    const writer = new ConfluentCodec(codec.type, 9, registry);
    const confluent = new ConfluentCodec<typeof good>(codec.type, undefined, registry);
    const events: Record<string, unknown>[] = [];
    const input = new Subject<ReturnType<typeof sourceRecord>>();
    const out: string[] = [];
    input.pipe(decode({ format: 'auto', codec, confluent, scheduler, log: (e) => events.push(e) })).subscribe((item) => out.push(item.kind === 'sample' ? item.sample.id : 'dead'));
    input.next(sourceRecord(0, writer.encode({ ...good, id: 'c1' })));
    input.next(sourceRecord(1, JSON.stringify({ ...good, id: 'json-after' })));
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 3; i++) {
      await tick();
      expect(out).toEqual([]); // held, not dead-lettered
      scheduler.flush();
    }
    await tick();
    expect(out).toEqual(['c1', 'json-after']);
    expect(scheduler.now()).toBe(500 + 1000 + 2000);
    expect(events.map((e) => [e.event, e.retryInMs ?? e.attempts])).toEqual([
      ['registry-unreachable', 500],
      ['registry-unreachable', 1000],
      ['registry-unreachable', 2000],
      ['registry-answered', 4],
    ]);
  });

  it('dead-letters a record whose schema id the registry does not have, without waiting', async () => {
    const registry = {
      schemaById: async (id: number) => {
        throw new TeacherlmError('DECODE_FAILED', `schema id ${id} does not exist in the schema registry`);
      },
    };
    const confluent = new ConfluentCodec<typeof good>(codec.type, undefined, registry);
    const dead: string[] = [];
    const events: unknown[] = [];
    const input = new Subject<ReturnType<typeof sourceRecord>>();
    input.pipe(decode({ format: 'confluent', codec, confluent, log: (e) => events.push(e) })).subscribe((item) => {
      if (item.kind === 'dead-letter') dead.push(item.value.errorMessage);
    });
    input.next(sourceRecord(0, new ConfluentCodec(codec.type, 404, registry).encode(good)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(dead).toEqual(['schema id 404 does not exist in the schema registry']);
    expect(events).toEqual([]);
  });

  it('stops waiting when unsubscribed (the held records were never committed)', async () => {
    const scheduler = new VirtualTimeScheduler();
    let lookups = 0;
    const registry = {
      schemaById: async () => {
        lookups++;
        throw new TeacherlmError('REGISTRY_UNREACHABLE', 'fetch failed');
      },
    };
    const confluent = new ConfluentCodec<typeof good>(codec.type, undefined, registry);
    const input = new Subject<ReturnType<typeof sourceRecord>>();
    const subscription = input.pipe(decode({ format: 'confluent', codec, confluent, scheduler })).subscribe();
    input.next(sourceRecord(0, new ConfluentCodec(codec.type, 9, registry).encode(good)));
    await new Promise((resolve) => setImmediate(resolve));
    subscription.unsubscribe();
    scheduler.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lookups).toBe(1);
  });
});
