import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { injectTraceHeaders } from '../../src/telemetry/kafka-headers.js';
import {
  contextWithSpan,
  endSpan,
  messagingAttributes,
  startConsumerSpan,
  startProducerSpan,
} from '../../src/telemetry/spans.js';
import { inMemoryTracing } from '../support/in-memory-tracing.js';

describe('a sample trace from producer to consumer', () => {
  const exporter = inMemoryTracing();

  it('makes the producer span the parent of the pipeline span, and the pipeline span of the tail span', () => {
    // produce: the send span's context goes into the input record's headers.
    const send = startProducerSpan('teacherlm.produce', messagingAttributes('send', { topic: 'samples.raw', key: 's1' }));
    const inputHeaders = injectTraceHeaders({}, contextWithSpan(send));
    endSpan(send);

    // pipeline: a process span from the input headers, its context injected into the
    // augmented record's headers (delivered as Buffers).
    const wire = Object.fromEntries(Object.entries(inputHeaders).map(([k, v]) => [k, Buffer.from(String(v))]));
    const process = startConsumerSpan('teacherlm.process', wire, messagingAttributes('process', { topic: 'samples.raw', partition: 0, offset: '7' }));
    const outputHeaders = injectTraceHeaders({}, contextWithSpan(process));
    endSpan(process);

    // tail: a receive span from the augmented record's headers.
    const receive = startConsumerSpan('teacherlm.tail', outputHeaders);
    endSpan(receive);

    const spans = Object.fromEntries(exporter.getFinishedSpans().map((s) => [s.name, s]));
    const [sendSpan, processSpan, tailSpan] = [spans['teacherlm.produce']!, spans['teacherlm.process']!, spans['teacherlm.tail']!];
    const traceId = sendSpan.spanContext().traceId;
    for (const s of [processSpan, tailSpan]) expect(s.spanContext().traceId).toBe(traceId);
    expect(sendSpan.parentSpanContext).toBeUndefined();
    expect(processSpan.parentSpanContext?.spanId).toBe(sendSpan.spanContext().spanId);
    expect(tailSpan.parentSpanContext?.spanId).toBe(processSpan.spanContext().spanId);
    expect(sendSpan.kind).toBe(SpanKind.PRODUCER);
    expect(processSpan.kind).toBe(SpanKind.CONSUMER);
    expect(processSpan.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': 'samples.raw',
      'messaging.destination.partition.id': '0',
      'messaging.kafka.offset': 7,
    });
  });

  it('starts a new trace when the record carries no context', () => {
    const span = startConsumerSpan('teacherlm.process', {});
    endSpan(span);
    expect(exporter.getFinishedSpans()[0]?.parentSpanContext).toBeUndefined();
  });

  it('marks a span failed with the error', () => {
    endSpan(startProducerSpan('p'), new Error('boom'));
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(span?.events[0]?.name).toBe('exception');
  });
});
