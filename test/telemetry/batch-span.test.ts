import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { TeacherlmError } from '../../src/errors.js';
import { traceBatch } from '../../src/telemetry/batch-span.js';
import { inMemoryTracing } from '../support/in-memory-tracing.js';

const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = (traceId: string, spanId: string) => ({ traceparent: Buffer.from(`00-${traceId}-${spanId}-01`) });

describe('traceBatch without an SDK', () => {
  it('only runs the call', async () => {
    await expect(traceBatch('batch', () => expect.unreachable('headers read without an SDK'), {}, async () => 42)).resolves.toBe(42);
  });
});

describe('traceBatch', () => {
  const exporter = inMemoryTracing();

  it("starts a root span linked once to each sample's context", async () => {
    const a = traceparent(TRACE_A, 'b7ad6b7169203331');
    const b = traceparent(TRACE_B, '00f067aa0ba902b7');
    // Two teachers' tasks of sample a, one of b, one record without trace context.
    const result = await traceBatch('teacherlm generate', () => [a, b, a, {}, undefined], { 'teacherlm.batch.size': 5 }, async () => 'done');
    expect(result).toBe('done');
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('teacherlm generate');
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.spanContext().traceId).not.toBe(TRACE_A);
    expect(span?.attributes['teacherlm.batch.size']).toBe(5);
    expect(span?.links.map((l) => `${l.context.traceId}/${l.context.spanId}`)).toEqual([`${TRACE_A}/b7ad6b7169203331`, `${TRACE_B}/00f067aa0ba902b7`]);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('marks the span failed and rethrows when the call fails', async () => {
    const error = new TeacherlmError('GENERATION_FAILED', 'worker died');
    await expect(traceBatch('teacherlm generate', () => [], {}, () => Promise.reject(error))).rejects.toBe(error);
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'worker died' });
  });
});
