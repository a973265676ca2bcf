import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, createTraceState, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { FinishedSpans, exceptionEvent } from '../../src/telemetry/finished-spans.js';
import { OtlpTraceEncoder } from '../../src/telemetry/otlp-trace-encoder.js';
import { traceSerializer } from '../../src/telemetry/otlp-proto-span-exporter.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const remote = { traceId: TRACE, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true };

/** Spans as the SDK's tracer makes them (events, links, status, trace state, every attribute type) and as the pipeline builds them. */
function sampleSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const resource = resourceFromAttributes({ 'service.name': 'teacherlm-test', 'host.arch': 'x64', 'process.pid': 4242, 'ratio': 0.25 });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('teacherlm', '1.2.3');
  const other = provider.getTracer('other-scope');
  const parent = trace.setSpanContext(ROOT_CONTEXT, { ...remote, traceState: createTraceState('vendor=abc,other=1') });

  const a = tracer.startSpan('samples process', {
    kind: SpanKind.CONSUMER,
    attributes: {
      'messaging.system': 'kafka',
      'messaging.destination.partition.id': '3',
      offset: 1234567890123,
      negative: -7,
      big: 2 ** 60,
      tooBig: 2 ** 64,
      fraction: 0.1,
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      flag: true,
      off: false,
      words: ['a', 'b'],
      numbers: [1, 2.5, -3],
      gaps: ['x', null, undefined, 'y'],
      empty: '',
      unicode: 'naïve 🚀 \u00e9\u4e2d',
      long: 'x'.repeat(300),
    },
    links: [{ context: { traceId: 'ffffffffffffffffffffffffffffffff', spanId: 'aaaaaaaaaaaaaaaa', traceFlags: TraceFlags.NONE }, attributes: { why: 'batch' } }],
  }, parent);
  a.addEvent('retry', { attempt: 2 });
  a.recordException(Object.assign(new Error('boom'), { code: 'ENGINE_FAILED' }));
  a.setStatus({ code: SpanStatusCode.ERROR, message: 'bad ünïcode' });
  a.end();
  const b = tracer.startSpan('plain', { kind: SpanKind.INTERNAL });
  b.setStatus({ code: SpanStatusCode.OK });
  b.end();
  const c = other.startSpan('other', { kind: SpanKind.PRODUCER, startTime: [1_700_000_000, 999_999_999] });
  c.end([4_294_967_296, 5]);

  // The pipeline's own spans, built finished (finished-spans.ts), with a resource of their own.
  const pipelineResource = resourceFromAttributes({ 'service.name': 'teacherlm-run' });
  const spans = new FinishedSpans([new SimpleSpanProcessor(exporter)], pipelineResource);
  const context = { traceId: TRACE, spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
  spans.emit({ name: 'decode', kind: SpanKind.INTERNAL, context, parent: remote, start: 1_700_000_000_123.25, end: 1_700_000_001_000.5, attributes: { 'teacherlm.stage': 'decode' } });
  spans.emit({
    name: 'teacherlm generate',
    context: { ...context, spanId: 'c7ad6b7169203331' },
    parent: context,
    start: 1_700_000_002_000,
    end: 1_700_000_003_000,
    attributes: { 'teacherlm.batch.size': 16, 'gen_ai.usage.input_tokens': 700 },
    links: Array.from({ length: 20 }, (_, i) => ({ context: { ...context, spanId: i.toString(16).padStart(16, '0') } })),
    error: 'engine gone',
    events: [exceptionEvent('engine gone', 1_700_000_003_000)],
  });
  return exporter.getFinishedSpans();
}

describe('OTLP trace encoder', () => {
  it("writes the SDK serializer's bytes for every kind of span", () => {
    const spans = sampleSpans();
    expect(spans.length).toBe(5);
    const ours = new OtlpTraceEncoder().encode(spans);
    const sdk = ProtobufTraceSerializer.serializeRequest(spans)!;
    expect(Buffer.from(ours).equals(Buffer.from(sdk))).toBe(true);
  });

  it('keeps each request its own and reuses a resource encoded once, through batches that grow its buffer', () => {
    const encoder = new OtlpTraceEncoder();
    const spans = sampleSpans();
    const first = encoder.encode(spans.slice(0, 2));
    const copy = Buffer.from(first);
    // 4,096 spans is the batch processor's export size: far beyond the first buffer.
    const many = Array.from({ length: 4096 }, (_, i) => spans[i % spans.length]!);
    const big = encoder.encode(many);
    expect(big.length).toBeGreaterThan(64 * 1024);
    expect(Buffer.from(big).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(many)!))).toBe(true);
    expect(Buffer.from(first).equals(copy)).toBe(true);
    expect(Buffer.from(encoder.encode(spans.slice(0, 2))).equals(copy)).toBe(true);
    expect(encoder.encode([]).length).toBe(0);
  });

  it('decodes as an OTLP ExportTraceServiceRequest with the ids, times and attributes given', async () => {
    const root = protobuf.Root.fromJSON(OTLP_TRACE_PROTO);
    const Request = root.lookupType('ExportTraceServiceRequest');
    const spans = sampleSpans();
    const decoded = Request.toObject(Request.decode(new OtlpTraceEncoder().encode(spans)), { longs: String, bytes: String }) as {
      resourceSpans: { scopeSpans: { spans: { traceId: string; parentSpanId?: string; name: string; startTimeUnixNano: string }[] }[] }[];
    };
    const decode = decoded.resourceSpans[1]!.scopeSpans[0]!.spans[0]!;
    expect(decode.name).toBe('decode');
    expect(Buffer.from(decode.traceId, 'base64').toString('hex')).toBe(TRACE);
    expect(Buffer.from(decode.parentSpanId!, 'base64').toString('hex')).toBe(remote.spanId);
    expect(decode.startTimeUnixNano).toBe('1700000000123250000');
  });

  it('gives the exporter a serializer that reads the collector\'s responses as the SDK does', () => {
    const serializer = traceSerializer();
    expect(serializer.deserializeResponse(new Uint8Array(0))).toEqual(ProtobufTraceSerializer.deserializeResponse(new Uint8Array(0)));
  });
});

/** The few OTLP trace fields the decode test reads (opentelemetry-proto trace/v1), for protobufjs. */
const OTLP_TRACE_PROTO = {
  nested: {
    ExportTraceServiceRequest: { fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } } },
    ResourceSpans: { fields: { scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 } } },
    ScopeSpans: { fields: { spans: { rule: 'repeated', type: 'Span', id: 2 } } },
    Span: {
      fields: {
        traceId: { type: 'bytes', id: 1 },
        spanId: { type: 'bytes', id: 2 },
        parentSpanId: { type: 'bytes', id: 4 },
        name: { type: 'string', id: 5 },
        startTimeUnixNano: { type: 'fixed64', id: 7 },
      },
    },
  },
};
