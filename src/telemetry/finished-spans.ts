/**
 * Spans handed to the span processors already finished, as the SDK's `ReadableSpan` (what
 * its processors and exporters read), without going through its tracer.
 *
 * The pipeline knows a traced sample's spans only when the sample's life is over (its
 * stage times are plain numbers until then, stage-spans.ts), and it has already decided
 * the sample's sampling itself (trace-sampling.ts). Starting each span through the tracer
 * then only repeats work: a sampler call, two attribute copies, a mutable Span and its
 * end, about half of a traced sample's CPU in the Kafka echo bench. So the pipeline's
 * spans (process, stages, engine batches) are built here at once, with the resource and
 * instrumentation scope the tracer would give them, and exported by the same processors.
 * Processors see only `onEnd` for them (the SDK's batch and simple processors do nothing
 * on start).
 *
 * @example
 * const spans = new FinishedSpans(processors, resource);
 * spans.emit({ name: 'decode', kind: SpanKind.INTERNAL, context, parent, start, end, attributes: { 'teacherlm.stage': 'decode' } });
 */
import { type Attributes, type HrTime, type Link, type SpanContext, SpanKind, type SpanStatus, SpanStatusCode } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { TRACER_NAME } from './spans.js';

export interface FinishedSpanData {
  name: string;
  kind?: SpanKind;
  context: SpanContext;
  parent?: SpanContext | undefined;
  /** Epoch milliseconds (fractions kept, as stage-spans.ts's epochNow gives them). */
  start: number;
  /** Epoch milliseconds; an end before the start is taken as the start. */
  end: number;
  attributes: Attributes;
  links?: Link[];
  /** Marks the span failed with this message. */
  error?: string;
  events?: TimedEvent[];
}

const UNSET: SpanStatus = { code: SpanStatusCode.UNSET };
const NO_LINKS: Link[] = [];
const NO_EVENTS: TimedEvent[] = [];
const SCOPE = { name: TRACER_NAME };

/** Epoch milliseconds as OpenTelemetry's [seconds, nanoseconds], rounded as the SDK's `millisToHrTime` rounds them. */
export function hrTimeOf(epochMs: number): HrTime {
  const seconds = Math.trunc(epochMs / 1000);
  const nanos = Math.round((epochMs % 1000) * 1e6);
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
}

function durationOf(start: HrTime, end: HrTime): HrTime {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1e9;
  }
  return [seconds, nanos];
}

/** One finished span; a class, so every span has one shape for the exporter's reads. */
class FinishedSpan implements ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly duration: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly events: TimedEvent[];
  readonly ended = true;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  private readonly context: SpanContext;

  constructor(
    data: FinishedSpanData,
    readonly resource: Resource,
    readonly instrumentationScope: { name: string },
  ) {
    this.name = data.name;
    this.kind = data.kind ?? SpanKind.INTERNAL;
    this.context = data.context;
    this.parentSpanContext = data.parent;
    this.startTime = hrTimeOf(data.start);
    this.endTime = hrTimeOf(Math.max(data.start, data.end));
    this.duration = durationOf(this.startTime, this.endTime);
    this.status = data.error === undefined ? UNSET : { code: SpanStatusCode.ERROR, message: data.error };
    this.attributes = data.attributes;
    this.links = data.links ?? NO_LINKS;
    this.events = data.events ?? NO_EVENTS;
  }

  spanContext(): SpanContext {
    return this.context;
  }
}

export class FinishedSpans {
  private readonly processors: readonly SpanProcessor[];

  constructor(
    processors: readonly SpanProcessor[],
    private readonly resource: Resource,
  ) {
    this.processors = [...processors];
  }

  emit(data: FinishedSpanData): void {
    const span = new FinishedSpan(data, this.resource, SCOPE);
    for (const processor of this.processors) processor.onEnd(span);
  }
}

/** The `exception` event the SDK's `recordException` adds, for a span built here. */
export function exceptionEvent(error: unknown, atEpochMs: number): TimedEvent {
  const attributes: Attributes = {};
  if (typeof error === 'string') attributes['exception.message'] = error;
  else if (error && typeof error === 'object') {
    const e = error as { code?: unknown; name?: unknown; message?: unknown; stack?: unknown };
    if (e.code !== undefined && e.code !== null && e.code !== '') attributes['exception.type'] = String(e.code);
    else if (typeof e.name === 'string' && e.name) attributes['exception.type'] = e.name;
    if (typeof e.message === 'string' && e.message) attributes['exception.message'] = e.message;
    if (typeof e.stack === 'string' && e.stack) attributes['exception.stacktrace'] = e.stack;
  }
  return { name: 'exception', attributes, time: hrTimeOf(atEpochMs), droppedAttributesCount: 0 };
}
