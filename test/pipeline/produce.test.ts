import { firstValueFrom, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { Encoded } from '../../src/pipeline/items.js';
import type { OutRecord, RecordSink } from '../../src/pipeline/ports.js';
import { produce } from '../../src/pipeline/produce.js';
import { RecordsRefused } from '../../src/pipeline/refused-records.js';
import { TeacherlmError } from '../../src/errors.js';
import { sourceRecord } from './fakes.js';

const encoded = (offset: number): Encoded => ({ record: sourceRecord(offset), kind: 'augmented', out: { topic: 'out', key: String(offset), value: Buffer.from('v'), headers: {} } });

/** A sink whose sends are acknowledged synchronously in virtual time (resolved promises would leave it). */
function recordingSink() {
  const sent: OutRecord[][] = [];
  const sink: RecordSink = {
    send: (records) => {
      sent.push(records);
      return { then: (ok: () => void) => ok() } as unknown as Promise<void>;
    },
    flush: async () => {},
    close: async () => {},
  };
  return { sent, sink };
}

describe('produce', () => {
  it('sends full batches at once and partial ones after lingerMs', () => {
    const { sent, sink } = recordingSink();
    const values = { a: encoded(0), b: encoded(1), c: encoded(2), d: encoded(3) };
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, expectObservable }) => {
      const out = cold('abc 20ms d 30ms |', values).pipe(produce({ sink, maxRecords: 2, lingerMs: 10, scheduler }));
      expectObservable(out).toBe('-x 10ms y 20ms z 20ms |', { x: [values.a, values.b], y: [values.c], z: [values.d] });
    });
    expect(sent.map((batch) => batch.map((r) => r.key))).toEqual([['0', '1'], ['2'], ['3']]);
  });

  it('replaces the records the broker refused even alone, sends the replacements, and emits the batch with them', async () => {
    const batch = [encoded(0), encoded(1), encoded(2)];
    const sent: OutRecord[][] = [];
    const sink: RecordSink = {
      send: async (records) => {
        sent.push(records);
        if (sent.length === 1) throw new RecordsRefused([batch[1]!.out], 'too large');
      },
      flush: async () => {},
      close: async () => {},
    };
    const deadLetter = (item: Encoded): Encoded => ({ ...item, kind: 'dead-letter', out: { ...item.out, topic: 'dlq' } });
    const out = await firstValueFrom(of(...batch).pipe(produce({ sink, maxRecords: 3, refused: deadLetter })));
    expect(out.map((e) => [e.kind, e.out.topic])).toEqual([['augmented', 'out'], ['dead-letter', 'dlq'], ['augmented', 'out']]);
    expect(sent.map((records) => records.map((r) => `${r.topic}:${r.key}`))).toEqual([['out:0', 'out:1', 'out:2'], ['dlq:1']]);
  });

  it('sends a retriably failed batch again after a doubling wait, as often as it takes, and then emits it once', () => {
    const failures = 3;
    const sent: OutRecord[][] = [];
    const sink: RecordSink = {
      // Settles synchronously, so the retries run in virtual time.
      send: (records) => {
        sent.push(records);
        const outage = new TeacherlmError('PRODUCE_FAILED', 'broker gone');
        return { then: (ok: () => void, fail: (e: unknown) => void) => (sent.length <= failures ? fail(outage) : ok()) } as unknown as Promise<void>;
      },
      flush: async () => {},
      close: async () => {},
    };
    const events: Record<string, unknown>[] = [];
    const a = encoded(0);
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, expectObservable }) => {
      const out = cold('a 1s |', { a }).pipe(
        produce({ sink, maxRecords: 1, sendBackoff: { initialMs: 100, maxMs: 250 }, log: (e) => events.push(e), scheduler }),
      );
      // 100 + 200 + 250 (capped) ms of waits before the fourth send succeeds.
      expectObservable(out).toBe('550ms x 450ms |', { x: [a] });
    });
    expect(sent).toHaveLength(failures + 1);
    expect(events.map((e) => [e.event, e.attempt, e.retryInMs])).toEqual([
      ['produce-retry', 1, 100],
      ['produce-retry', 2, 200],
      ['produce-retry', 3, 250],
    ]);
  });

  it('fails on any other send error, and without a replacement', async () => {
    const failing = (error: Error): RecordSink => ({ send: async () => Promise.reject(error), flush: async () => {}, close: async () => {} });
    const broken = new TeacherlmError('PRODUCE_FAILED', 'the sink is closed', { retriable: false });
    await expect(firstValueFrom(of(encoded(0)).pipe(produce({ sink: failing(broken), refused: (e) => e })))).rejects.toBe(broken);
    const refused = new RecordsRefused([encoded(0).out], 'too large');
    await expect(firstValueFrom(of(encoded(0)).pipe(produce({ sink: failing(refused) })))).rejects.toBe(refused);
  });
});
