/**
 * Every environment variable the telemetry reads, mapped in this one place.
 *
 * - `OTEL_SDK_DISABLED=true`: no tracing at all.
 * - `OTEL_TRACES_EXPORTER`: `otlp`, `console` or `none`. When unset: `otlp` if an OTLP
 *   endpoint is set, otherwise `none`, so a plain run never tries to reach a collector.
 * - `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: where OTLP/HTTP
 *   spans go (read by the exporter itself, e.g. `http://localhost:4318` for Jaeger).
 * - `OTEL_SERVICE_NAME`: overrides the service name each command chooses.
 */
import { TeacherlmError } from '../errors.js';

export const TRACE_EXPORTERS = ['otlp', 'console', 'none'] as const;
export type TraceExporterKind = (typeof TRACE_EXPORTERS)[number];

export interface TelemetryConfig {
  exporter: TraceExporterKind;
  serviceName: string;
}

/** Service name used when neither the caller nor `OTEL_SERVICE_NAME` gives one. */
export const DEFAULT_SERVICE_NAME = 'teacherlm-stream';

export function telemetryConfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  defaultServiceName: string = DEFAULT_SERVICE_NAME,
): TelemetryConfig {
  const serviceName = nonEmpty(env.OTEL_SERVICE_NAME) ?? defaultServiceName;
  if (nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return { exporter: 'none', serviceName };
  const requested = nonEmpty(env.OTEL_TRACES_EXPORTER)?.toLowerCase();
  if (requested === undefined) {
    const endpoint = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
    return { exporter: endpoint ? 'otlp' : 'none', serviceName };
  }
  if (!(TRACE_EXPORTERS as readonly string[]).includes(requested)) {
    throw new TeacherlmError(
      'INVALID_OPTIONS',
      `OTEL_TRACES_EXPORTER='${env.OTEL_TRACES_EXPORTER}' is not supported`,
      { hint: `use one of ${TRACE_EXPORTERS.join(', ')}` },
    );
  }
  return { exporter: requested as TraceExporterKind, serviceName };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
