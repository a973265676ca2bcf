/**
 * Every environment variable the telemetry reads, mapped in this one place.
 *
 * - `OTEL_SDK_DISABLED=true`: no tracing at all.
 * - `OTEL_TRACES_EXPORTER`: `otlp`, `console` or `none`. When unset: `otlp` if an OTLP
 *   endpoint is set, otherwise `none`, so a plain run never tries to reach a collector.
 * - `OTEL_EXPORTER_OTLP_ENDPOINT` (e.g. `http://localhost:4318` for Jaeger; `/v1/traces` is
 *   appended) or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is): where OTLP/HTTP spans go.
 *   With `otlp` and neither set, the exporter's default (`http://localhost:4318/v1/traces`).
 * - `OTEL_EXPORTER_OTLP_PROTOCOL` (or `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` /
 *   `_METRICS_PROTOCOL`): `http/protobuf` (the default, as the OTLP spec says) or `http/json`.
 * - `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`: read by `traceSamplingFromEnv`
 *   (trace-sampling.ts; default `parentbased_always_on`; e.g. `parentbased_traceidratio`
 *   with `0.01`), which both the SDK and the pipeline decide by.
 * - `OTEL_BSP_*`: the batch span processor's limits; unset ones get {@link SPAN_BATCH_DEFAULTS}.
 * - `OTEL_SERVICE_NAME`: overrides the service name each command chooses.
 *
 * Metrics ({@link metricsConfigFromEnv}) follow the same rules with their own variables:
 * - `OTEL_METRICS_EXPORTER`: `otlp`, `console` or `none`; unset: `otlp` if an OTLP endpoint
 *   is set, otherwise `none`. (`--metrics-port` serves Prometheus text whatever this says.)
 * - `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/metrics` appended) or
 *   `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` (used as is).
 * - `OTEL_METRIC_EXPORT_INTERVAL`: milliseconds between pushes (default 60000).
 */
import { TeacherlmError } from '../errors.js';
import { rejectOption } from '../options.js';

export const TRACE_EXPORTERS = ['otlp', 'console', 'none'] as const;
export type TraceExporterKind = (typeof TRACE_EXPORTERS)[number];

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export interface TelemetryConfig {
  exporter: TraceExporterKind;
  serviceName: string;
  /** Where OTLP/HTTP spans are posted, when `exporter` is `otlp` and an endpoint is set. */
  tracesUrl?: string;
  /** OTLP encoding; default `http/protobuf`. */
  protocol: OtlpProtocol;
}

/**
 * Batch span processor limits unless OTEL_BSP_* set them: a queue deep enough for a few
 * seconds of a fully traced echo pipeline (about ten spans a sample), spans dropped beyond it
 * rather than memory grown; export every second in large requests.
 */
export const SPAN_BATCH_DEFAULTS = { maxQueueSize: 65_536, maxExportBatchSize: 4_096, scheduledDelayMillis: 1_000 } as const;

/** OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf. */
export function otlpProtocolFromEnv(env: NodeJS.ProcessEnv, signal: 'TRACES' | 'METRICS'): OtlpProtocol {
  const variable = nonEmpty(env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`]) !== undefined ? `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL` : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const value = nonEmpty(env[variable])?.toLowerCase() ?? 'http/protobuf';
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(value)) {
    throw new TeacherlmError('INVALID_OPTIONS', `${variable}: expected one of ${OTLP_PROTOCOLS.join(', ')}, got '${env[variable]}'`, value === 'grpc' ? { hint: 'OTLP/gRPC is not supported; use http/protobuf (port 4318)' } : {});
  }
  return value as OtlpProtocol;
}

/** Service name used when neither the caller nor `OTEL_SERVICE_NAME` gives one. */
export const DEFAULT_SERVICE_NAME = 'teacherlm-stream';

export function telemetryConfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  defaultServiceName: string = DEFAULT_SERVICE_NAME,
): TelemetryConfig {
  const serviceName = nonEmpty(env.OTEL_SERVICE_NAME) ?? defaultServiceName;
  if (nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return { exporter: 'none', serviceName, protocol: 'http/protobuf' };
  const protocol = otlpProtocolFromEnv(env, 'TRACES');
  const tracesUrl = signalUrl(env, 'TRACES');
  const requested = nonEmpty(env.OTEL_TRACES_EXPORTER)?.toLowerCase();
  if (requested === undefined) {
    return tracesUrl ? { exporter: 'otlp', serviceName, tracesUrl, protocol } : { exporter: 'none', serviceName, protocol };
  }
  if (!(TRACE_EXPORTERS as readonly string[]).includes(requested)) {
    throw new TeacherlmError(
      'INVALID_OPTIONS',
      `OTEL_TRACES_EXPORTER='${env.OTEL_TRACES_EXPORTER}' is not supported`,
      { hint: `use one of ${TRACE_EXPORTERS.join(', ')}` },
    );
  }
  const exporter = requested as TraceExporterKind;
  return exporter === 'otlp' && tracesUrl ? { exporter, serviceName, tracesUrl, protocol } : { exporter, serviceName, protocol };
}

export const METRICS_EXPORTERS = TRACE_EXPORTERS;
export type MetricsExporterKind = TraceExporterKind;

export interface MetricsConfig {
  exporter: MetricsExporterKind;
  /** Where OTLP/HTTP metrics are posted, when `exporter` is `otlp` and an endpoint is set. */
  metricsUrl?: string;
  /** Milliseconds between pushes to the exporter. */
  exportIntervalMs: number;
  /** OTLP encoding; default `http/protobuf`. */
  protocol: OtlpProtocol;
}

export const DEFAULT_METRIC_EXPORT_INTERVAL_MS = 60_000;

export function metricsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MetricsConfig {
  const intervalText = nonEmpty(env.OTEL_METRIC_EXPORT_INTERVAL);
  const exportIntervalMs = intervalText === undefined ? DEFAULT_METRIC_EXPORT_INTERVAL_MS : Number(intervalText);
  if (!Number.isInteger(exportIntervalMs) || exportIntervalMs < 1) {
    throw new TeacherlmError('INVALID_OPTIONS', `OTEL_METRIC_EXPORT_INTERVAL: expected a whole number of milliseconds >= 1, got '${intervalText}'`);
  }
  if (nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return { exporter: 'none', exportIntervalMs, protocol: 'http/protobuf' };
  const protocol = otlpProtocolFromEnv(env, 'METRICS');
  const metricsUrl = signalUrl(env, 'METRICS');
  const requested = nonEmpty(env.OTEL_METRICS_EXPORTER)?.toLowerCase();
  if (requested === undefined) {
    return metricsUrl ? { exporter: 'otlp', metricsUrl, exportIntervalMs, protocol } : { exporter: 'none', exportIntervalMs, protocol };
  }
  if (!(METRICS_EXPORTERS as readonly string[]).includes(requested)) {
    throw new TeacherlmError('INVALID_OPTIONS', `OTEL_METRICS_EXPORTER: expected one of ${METRICS_EXPORTERS.join(', ')}, got '${env.OTEL_METRICS_EXPORTER}'`);
  }
  const exporter = requested as MetricsExporterKind;
  return exporter === 'otlp' && metricsUrl ? { exporter, metricsUrl, exportIntervalMs, protocol } : { exporter, exportIntervalMs, protocol };
}

/**
 * A signal's OTLP/HTTP URL: as the OTLP spec says, the signal-specific variable is used as
 * is, and the base one gets /v1/traces or /v1/metrics. Checked here, at the boundary, so
 * the error names the variable; the exporters would refuse it later in words of their own.
 */
function signalUrl(env: NodeJS.ProcessEnv, signal: 'TRACES' | 'METRICS'): string | undefined {
  const specific = nonEmpty(env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]);
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const field = specific !== undefined ? `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT` : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const given = specific ?? base;
  if (given === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(given);
  } catch {
    rejectOption(field, 'an http:// or https:// URL', given);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') rejectOption(field, 'an http:// or https:// URL', given);
  return specific ?? `${given.replace(/\/+$/, '')}/v1/${signal.toLowerCase()}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
