import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Subject, firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { TeacherlmError } from '../../src/errors.js';
import type { OutRecord, RecordSink, RecordSource, SourceRecord } from '../../src/pipeline/ports.js';
import { extractTraceContext } from '../../src/telemetry/kafka-headers.js';
import { recordTracing } from '../../src/pipeline/traced-ports.js';
import { inMemoryTracing } from '../support/in-memory-tracing.js';

const PRODUCER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const PRODUCER_SPAN = 'b7ad6b7169203331';

function input(offset: number, traced = true): SourceRecord {
  return {
    topic: 'samples.raw',
    partition: 0,
    offset: String(offset),
    key: Buffer.from(`s${offset}`),
    value: Buffer.from('{}'),
    headers: traced ? { traceparent: Buffer.from(`00-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01`), other: 'x' } : {},
    timestamp: '0',
  };
}

/** What the pipeline does with headers: carries the input's trace headers to the output. */
function output(record: SourceRecord): OutRecord {
  return { topic: 'samples.augmented', key: record.key, value: Buffer.from('out'), headers: { traceparent: record.headers.traceparent! } };
}

class FakeSource implements RecordSource {
  readonly subject = new Subject<SourceRecord>();
  paused: string[] = [];
  records() {
    return this.subject.asObservable();
  }
  pause(topic: string, partition: number) {
    this.paused.push(`${topic}:${partition}`);
  }
  resume() {}
  async commit() {}
  async stop() {
    this.subject.complete();
  }
  stats() {
    return { pauses: this.paused.length, resumes: 0, consumed: 0 };
  }
}

class FakeSink implements RecordSink {
  fail = false;
  sent: OutRecord[] = [];
  async send(records: OutRecord[]) {
    if (this.fail) throw new TeacherlmError('PRODUCE_FAILED', 'gone');
    this.sent.push(...records);
  }
  async flush() {}
  async close() {}
}

describe('recordTracing', () => {
  const exporter = inMemoryTracing();

  it("makes a process span per record, child of the producer's, ended when its output is acknowledged", async () => {
    const tracing = recordTracing();
    const fake = new FakeSource();
    const source = tracing.source(fake);
    const sink = tracing.sink(new FakeSink());
    const consumed = firstValueFrom(source.records().pipe(toArray()));
    fake.subject.next(input(7));
    fake.subject.next(input(8, false));
    await source.stop();
    const [traced, untraced] = await consumed;
    expect(tracing.openSpans()).toBe(2);
    expect(exporter.getFinishedSpans()).toHaveLength(0);

    // The record now carries the process span's context; other headers stay.
    const carried = trace.getSpanContext(extractTraceContext(traced!.headers))!;
    expect(carried.traceId).toBe(PRODUCER_TRACE);
    expect(carried.spanId).not.toBe(PRODUCER_SPAN);
    expect(traced!.headers.other).toBe('x');

    await sink.send([output(traced!), output(untraced!)]);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    const process = spans.find((s) => s.spanContext().spanId === carried.spanId)!;
    expect(process.name).toBe('samples.raw process');
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.parentSpanContext?.spanId).toBe(PRODUCER_SPAN);
    expect(process.attributes).toMatchObject({ 'messaging.kafka.offset': 7, 'teacherlm.output.topic': 'samples.augmented' });
    // A record without a producer context starts its own trace.
    expect(spans.find((s) => s !== process)?.parentSpanContext).toBeUndefined();
    expect(tracing.openSpans()).toBe(0);

    source.pause('samples.raw', 0);
    expect(fake.paused).toEqual(['samples.raw:0']);
  });

  it('fails the span when the send fails, and ends the oldest as abandoned beyond the limit', async () => {
    const tracing = recordTracing({ maxOpenSpans: 2 });
    const fake = new FakeSource();
    const fakeSink = new FakeSink();
    const source = tracing.source(fake);
    const sink = tracing.sink(fakeSink);
    const consumed = firstValueFrom(source.records().pipe(toArray()));
    for (const offset of [1, 2, 3]) fake.subject.next(input(offset));
    await source.stop();
    const records = await consumed;
    expect(tracing.openSpans()).toBe(2);
    const abandoned = exporter.getFinishedSpans();
    expect(abandoned.map((s) => s.attributes['teacherlm.abandoned'])).toEqual([true]);
    expect(abandoned[0]?.attributes['messaging.kafka.offset']).toBe(1);

    fakeSink.fail = true;
    await expect(sink.send([output(records[1]!)])).rejects.toMatchObject({ code: 'PRODUCE_FAILED' });
    expect(exporter.getFinishedSpans()[1]?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'gone' });
  });
});
