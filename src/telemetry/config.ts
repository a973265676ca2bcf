/**
 * Every environment variable the telemetry reads, mapped in this one place.
 *
 * - `OTEL_SDK_DISABLED=true`: no tracing at all.
 * - `OTEL_TRACES_EXPORTER`: `otlp`, `console` or `none`. When unset: `otlp` if an OTLP
 *   endpoint is set, otherwise `none`, so a plain run never tries to reach a collector.
 * - `OTEL_EXPORTER_OTLP_ENDPOINT` (e.g. `http://localhost:4318` for Jaeger; `/v1/traces` is
 *   appended) or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is): where OTLP/HTTP spans go.
 *   With `otlp` and neither set, the exporter's default (`http://localhost:4318/v1/traces`).
 * - `OTEL_SERVICE_NAME`: overrides the service name each command chooses.
 */
import { TeacherlmError } from '../errors.js';

export const TRACE_EXPORTERS = ['otlp', 'console', 'none'] as const;
export type TraceExporterKind = (typeof TRACE_EXPORTERS)[number];

export interface TelemetryConfig {
  exporter: TraceExporterKind;
  serviceName: string;
  /** Where OTLP/HTTP spans are posted, when `exporter` is `otlp` and an endpoint is set. */
  tracesUrl?: string;
}

/** Service name used when neither the caller nor `OTEL_SERVICE_NAME` gives one. */
export const DEFAULT_SERVICE_NAME = 'teacherlm-stream';

export function telemetryConfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  defaultServiceName: string = DEFAULT_SERVICE_NAME,
): TelemetryConfig {
  const serviceName = nonEmpty(env.OTEL_SERVICE_NAME) ?? defaultServiceName;
  if (nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return { exporter: 'none', serviceName };
  // As the OTLP spec says: the signal-specific URL is used as is, the base one gets /v1/traces.
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const tracesUrl = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  const requested = nonEmpty(env.OTEL_TRACES_EXPORTER)?.toLowerCase();
  if (requested === undefined) {
    return tracesUrl ? { exporter: 'otlp', serviceName, tracesUrl } : { exporter: 'none', serviceName };
  }
  if (!(TRACE_EXPORTERS as readonly string[]).includes(requested)) {
    throw new TeacherlmError(
      'INVALID_OPTIONS',
      `OTEL_TRACES_EXPORTER='${env.OTEL_TRACES_EXPORTER}' is not supported`,
      { hint: `use one of ${TRACE_EXPORTERS.join(', ')}` },
    );
  }
  const exporter = requested as TraceExporterKind;
  return exporter === 'otlp' && tracesUrl ? { exporter, serviceName, tracesUrl } : { exporter, serviceName };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
