/**
 * A sample's stage spans, built after the fact from plain timestamps. The pipeline notes
 * when each stage of a traced sample began and ended (numbers, epoch milliseconds), and
 * only when the sample's life is over does this create its spans, children of its process
 * span, with those times, finished (finished-spans.ts): no span object, context switch or
 * async-hooks bookkeeping per stage while the sample is on its way, and nothing at all for
 * a sample not traced.
 *
 * @example
 * emitStages(spans, ids, processSpanContext, [{ name: 'decode', stage: 'decode', start: consumedAt, end: decodedAt }]);
 */
import { type Attributes, type Link, type SpanContext, SpanKind, trace } from '@opentelemetry/api';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import type { FinishedSpans } from './finished-spans.js';

/** The stages of a sample's trace, as `teacherlm.stage` names them. */
export const STAGES = ['consume', 'decode', 'queue', 'inference', 'gate', 'encode', 'produce', 'commit'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageTiming {
  /** Span name (e.g. `queue wait`). */
  name: string;
  stage: Stage;
  /** Epoch milliseconds. */
  start: number;
  end: number;
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** Marks the span failed. */
  error?: string;
}

/** Epoch milliseconds now, with performance.now()'s resolution. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** One finished child span of `parent` per timing, each with a new span id. */
export function emitStages(spans: FinishedSpans, ids: Pick<IdGenerator, 'generateSpanId'>, parent: SpanContext, timings: readonly StageTiming[]): void {
  for (const timing of timings) {
    spans.emit({
      name: timing.name,
      kind: timing.kind ?? SpanKind.INTERNAL,
      context: { traceId: parent.traceId, spanId: ids.generateSpanId(), traceFlags: parent.traceFlags, traceState: parent.traceState },
      parent,
      start: timing.start,
      end: timing.end,
      attributes: { 'teacherlm.stage': timing.stage, ...timing.attributes },
      links: timing.links,
      error: timing.error,
    });
  }
}

/** A link to `context` when it is a valid span context. */
export function linkTo(context: SpanContext | undefined): Link[] {
  return context && trace.isSpanContextValid(context) ? [{ context }] : [];
}
