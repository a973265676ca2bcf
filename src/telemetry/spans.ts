/**
 * Span helpers that make one sample's trace follow it across processes:
 * `produce` (send span, context injected into the record's headers) → pipeline
 * (process span whose parent is extracted from the input headers, with its stage spans and
 * the engine calls' batch spans, see pipeline/sample-tracing.ts; its context injected into
 * the augmented record's headers) → consumers (`tail`, `subscribeAugmented`, the student
 * feed: a span whose parent is extracted from the augmented record's headers).
 *
 * With telemetry disabled these are the API's no-ops and cost next to nothing.
 *
 * @example
 * const span = startConsumerSpan('samples.raw process', record.headers, messagingAttributes('process', { topic, partition, offset }));
 * const out = injectTraceHeaders({}, contextWithSpan(span));
 * endSpan(span);
 */
import {
  type Attributes,
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  context as contextApi,
  trace,
} from '@opentelemetry/api';
import { type KafkaHeaders, extractTraceContext } from './kafka-headers.js';

export const TRACER_NAME = 'teacherlm-stream';

export function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/** Where a Kafka record lives, as messaging semantic-convention attributes. */
export interface KafkaCoordinates {
  topic: string;
  partition?: number;
  offset?: string;
  key?: string;
}

export function messagingAttributes(operation: 'send' | 'receive' | 'process', where: KafkaCoordinates): Attributes {
  const attributes: Attributes = {
    'messaging.system': 'kafka',
    'messaging.operation.type': operation,
    'messaging.destination.name': where.topic,
  };
  if (where.partition !== undefined) attributes['messaging.destination.partition.id'] = String(where.partition);
  if (where.offset !== undefined) attributes['messaging.kafka.offset'] = Number(where.offset);
  if (where.key !== undefined) attributes['messaging.kafka.message.key'] = where.key;
  return attributes;
}

/** A PRODUCER span, child of `parent` (default: the active context). */
export function startProducerSpan(name: string, attributes: Attributes = {}, parent: Context = contextApi.active()): Span {
  return tracer().startSpan(name, { kind: SpanKind.PRODUCER, attributes }, parent);
}

/** A CONSUMER span whose parent is the trace context carried by the record's headers. */
export function startConsumerSpan(name: string, headers: KafkaHeaders | undefined, attributes: Attributes = {}): Span {
  return tracer().startSpan(name, { kind: SpanKind.CONSUMER, attributes }, extractTraceContext(headers));
}

/** `base` (default: the active context) with `span` as the current span. */
export function contextWithSpan(span: Span, base: Context = contextApi.active()): Context {
  return trace.setSpan(base, span);
}

/** Ends `span`, marking it failed with `error` when one is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}
