/**
 * Whether this process registered a tracing SDK ({@link startTelemetry}). The pipeline
 * reads it once per run to decide whether to trace at all, so an untraced run does no
 * per-record tracing work (no header parsing, no no-op spans).
 */
let active = false;

export function tracingActive(): boolean {
  return active;
}

export function setTracingActive(value: boolean): void {
  active = value;
}

/** OTEL_TRACES_SAMPLER as the SDK reads it (from the process environment); default parent-based. */
export function tracesSampler(): string {
  return process.env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on';
}
