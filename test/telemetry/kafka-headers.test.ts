import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  type KafkaHeaders,
  extractTraceContext,
  injectTraceHeaders,
  kafkaHeaderGetter,
} from '../../src/telemetry/kafka-headers.js';
import { contextWithSpan, startProducerSpan } from '../../src/telemetry/spans.js';
import { inMemoryTracing } from '../support/in-memory-tracing.js';

describe('kafkaHeaderGetter', () => {
  it('decodes Buffer values, arrays and keys of any case', () => {
    const headers: KafkaHeaders = { TraceParent: Buffer.from('abc'), multi: [Buffer.from('x'), 'y'], plain: 'p' };
    expect(kafkaHeaderGetter.get(headers, 'traceparent')).toBe('abc');
    expect(kafkaHeaderGetter.get(headers, 'multi')).toEqual(['x', 'y']);
    expect(kafkaHeaderGetter.get(headers, 'plain')).toBe('p');
    expect(kafkaHeaderGetter.get(headers, 'missing')).toBeUndefined();
    expect(kafkaHeaderGetter.keys(headers)).toEqual(['TraceParent', 'multi', 'plain']);
  });
});

describe('trace context through Kafka headers', () => {
  inMemoryTracing(); // a recording SDK, so spans have real contexts

  it('injects a W3C traceparent that extracts back to the same span context', () => {
    const span = startProducerSpan('send');
    const headers = injectTraceHeaders<KafkaHeaders>({}, contextWithSpan(span));
    span.end();
    const { traceId, spanId } = span.spanContext();
    expect(headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);

    // What a kafkajs consumer receives: the same header as a Buffer.
    const received: KafkaHeaders = { traceparent: Buffer.from(String(headers.traceparent)) };
    const remote = trace.getSpanContext(extractTraceContext(received));
    expect(remote).toMatchObject({ traceId, spanId, isRemote: true });
  });

  it('leaves the context empty when the headers carry none', () => {
    expect(trace.getSpanContext(extractTraceContext({ other: Buffer.from('1') }))).toBeUndefined();
    expect(extractTraceContext(undefined)).toBe(ROOT_CONTEXT);
  });
});
