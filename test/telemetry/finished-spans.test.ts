import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { FinishedSpans, exceptionEvent, hrTimeOf } from '../../src/telemetry/finished-spans.js';
import { TRACER_NAME } from '../../src/telemetry/spans.js';

const context = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
const parent = { traceId: context.traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true };

describe('finished spans', () => {
  it('hands each span, finished, to every processor, with the resource and scope the tracer would give', async () => {
    const exporters = [new InMemorySpanExporter(), new InMemorySpanExporter()];
    const resource = resourceFromAttributes({ 'service.name': 'test' });
    const spans = new FinishedSpans(
      exporters.map((e) => new SimpleSpanProcessor(e)),
      resource,
    );
    spans.emit({ name: 'decode', kind: SpanKind.INTERNAL, context, parent, start: 1_700_000_000_123.25, end: 1_700_000_001_000.5, attributes: { 'teacherlm.stage': 'decode' } });
    spans.emit({ name: 'gate', context, start: 1_700_000_000_000, end: 1_699_999_999_000, attributes: {}, error: 'QUALITY_FAILED' });
    for (const exporter of exporters) {
      const [decode, gate] = exporter.getFinishedSpans();
      expect(decode!.spanContext()).toBe(context);
      expect(decode!.parentSpanContext).toBe(parent);
      expect(decode!.resource).toBe(resource);
      expect(decode!.instrumentationScope.name).toBe(TRACER_NAME);
      expect(decode!.startTime).toEqual([1_700_000_000, 123_250_000]);
      expect(decode!.endTime).toEqual([1_700_000_001, 500_000]);
      expect(decode!.duration).toEqual([0, 877_250_000]);
      expect(decode!.status.code).toBe(SpanStatusCode.UNSET);
      expect(decode!.ended).toBe(true);
      // An end before the start is the start, as the SDK's span takes it.
      expect(gate!.kind).toBe(SpanKind.INTERNAL);
      expect(gate!.endTime).toEqual(gate!.startTime);
      expect(gate!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'QUALITY_FAILED' });
    }
  });

  it('converts epoch milliseconds as the SDK does, carrying a rounded-up second', () => {
    expect(hrTimeOf(1_000.000_000_1)).toEqual([1, 0]);
    expect(hrTimeOf(1_999.999_999_9)).toEqual([2, 0]);
    expect(hrTimeOf(0.5)).toEqual([0, 500_000]);
  });

  it("describes an error as the SDK's recordException does", () => {
    const error = Object.assign(new Error('engine gone'), { code: 'ENGINE_FAILED' });
    const event = exceptionEvent(error, 1_000);
    expect(event.name).toBe('exception');
    expect(event.time).toEqual([1, 0]);
    expect(event.attributes).toMatchObject({ 'exception.type': 'ENGINE_FAILED', 'exception.message': 'engine gone' });
    expect(String(event.attributes?.['exception.stacktrace'])).toContain('engine gone');
    expect(exceptionEvent('plain', 0).attributes).toEqual({ 'exception.message': 'plain' });
  });
});
