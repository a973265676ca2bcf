import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { Encoded } from '../../src/pipeline/items.js';
import type { OutRecord, RecordSink } from '../../src/pipeline/ports.js';
import { produce } from '../../src/pipeline/produce.js';
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
});
