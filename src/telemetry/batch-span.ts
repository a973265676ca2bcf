/**
 * A span around one batched call (e.g. an engine's `generate` over many samples' prompts).
 * A batch serves many traces at once, so, as OpenTelemetry's messaging conventions do for
 * batch processing, the span starts a trace of its own and LINKS to each sample's context
 * (carried by its record's headers; after `recordTracing()`, the sample's process span).
 * Without a registered SDK the span is a no-op and no header is read.
 *
 * @example
 * const results = await traceBatch('teacherlm generate', () => tasks.map((t) => t.job.record.headers), { 'teacherlm.batch.size': tasks.length }, () =>
 *   engine.generate(requests));
 */
import { type Attributes, type Link, SpanKind, trace } from '@opentelemetry/api';
import { type KafkaHeaders, extractTraceContext } from './kafka-headers.js';
import { endSpan, tracer } from './spans.js';

/** `headers` is read only when the span records, so an untraced batch costs one no-op span. */
export async function traceBatch<T>(
  name: string,
  headers: () => readonly (KafkaHeaders | undefined)[],
  attributes: Attributes,
  run: () => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(name, { kind: SpanKind.INTERNAL, attributes, root: true });
  if (!span.isRecording()) return run();
  span.addLinks(batchLinks(headers()));
  try {
    const result = await run();
    endSpan(span);
    return result;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

/** One link per distinct sample context (a sample's tasks for several teachers share one). */
function batchLinks(headers: readonly (KafkaHeaders | undefined)[]): Link[] {
  const links = new Map<string, Link>();
  for (const h of headers) {
    const context = trace.getSpanContext(extractTraceContext(h));
    if (context && trace.isSpanContextValid(context)) links.set(`${context.traceId}/${context.spanId}`, { context });
  }
  return [...links.values()];
}
