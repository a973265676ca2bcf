/**
 * The tracing this process registered ({@link startTelemetry}), if any: its sampler, id
 * generator and the way to its span processors for spans built finished. The pipeline reads it once per run to decide whether to trace at all, so an
 * untraced run does no per-record tracing work (no header parsing, no no-op spans), and a
 * traced one decides each record's sampling itself, as the SDK would.
 */
import type { FinishedSpans } from './finished-spans.js';
import { type IdGenerator, RandomIdGenerator } from '@opentelemetry/sdk-trace-base';
import { TraceSampling } from './trace-sampling.js';

export interface ActiveTracing {
  sampling: TraceSampling;
  ids: IdGenerator;
  /** The registered processors, for spans built finished; undefined: nothing is recorded. */
  spans: FinishedSpans | undefined;
}

let active: ActiveTracing | undefined;

export function tracingActive(): boolean {
  return active !== undefined;
}

/** The registered SDK's sampling, ids and processors; without one, the defaults (parent-based, always on; ids nobody reads) and no processors. */
export function activeTracing(): ActiveTracing {
  return active ?? { sampling: new TraceSampling('parentbased_always_on'), ids: new RandomIdGenerator(), spans: undefined };
}

export function setActiveTracing(value: ActiveTracing | undefined): void {
  active = value;
}
