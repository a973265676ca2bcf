/**
 * A sample's stage spans, built after the fact from plain timestamps. The pipeline notes
 * when each stage of a traced sample began and ended (numbers, epoch milliseconds), and
 * only when the sample's life is over does this create its spans, children of its process
 * span, with those times: no span object, context switch or async-hooks bookkeeping per
 * stage while the sample is on its way, and nothing at all for a sample not traced.
 *
 * @example
 * emitStages(processSpan, [{ name: 'decode', stage: 'decode', start: consumedAt, end: decodedAt }]);
 * processSpan.end(committedAt);
 */
import { type Attributes, type Context, type Link, ROOT_CONTEXT, type Span, type SpanContext, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { tracer } from './spans.js';

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

/** Creates and ends one child span of `parent` per timing. */
export function emitStages(parent: Context | Span, timings: readonly StageTiming[]): void {
  const context = 'spanContext' in parent ? trace.setSpan(ROOT_CONTEXT, parent) : parent;
  const t = tracer();
  for (const timing of timings) {
    const attributes: Attributes = { 'teacherlm.stage': timing.stage, ...timing.attributes };
    const span = t.startSpan(
      timing.name,
      { kind: timing.kind ?? SpanKind.INTERNAL, startTime: timing.start, attributes, ...(timing.links ? { links: timing.links } : {}) },
      context,
    );
    if (timing.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: timing.error });
    span.end(Math.max(timing.start, timing.end));
  }
}

/** A link to `context` when it is a valid span context. */
export function linkTo(context: SpanContext | undefined): Link[] {
  return context && trace.isSpanContextValid(context) ? [{ context }] : [];
}
