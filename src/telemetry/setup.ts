/**
 * OpenTelemetry for one process: `startTelemetry()` registers the tracer provider, the
 * W3C trace-context propagator and the async-hooks context manager; `shutdown()` flushes
 * and unregisters them, and is safe to call more than once.
 *
 * Exporter choice comes from {@link telemetryConfigFromEnv}; tests pass `spanProcessors`
 * (e.g. a SimpleSpanProcessor over an InMemorySpanExporter) instead.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { envDetector, processDetector } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { type TelemetryConfig, telemetryConfigFromEnv } from './config.js';
import { StderrSpanExporter } from './stderr-span-exporter.js';

export interface TelemetryOptions {
  /** Service name unless `OTEL_SERVICE_NAME` overrides it (e.g. `teacherlm-produce`). */
  serviceName?: string;
  /** Replaces the env-chosen exporter; tests use an in-memory one. */
  spanProcessors?: SpanProcessor[];
  env?: NodeJS.ProcessEnv;
}

export interface Telemetry {
  readonly config: TelemetryConfig;
  /** Whether spans are recorded and exported (false: the API stays a no-op). */
  readonly enabled: boolean;
  /** Exports what is buffered without stopping. */
  forceFlush(): Promise<void>;
  /** Flushes, stops and unregisters; later calls return the first call's promise. */
  shutdown(): Promise<void>;
}

export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  const config = telemetryConfigFromEnv(options.env ?? process.env, options.serviceName);
  const processors = options.spanProcessors ?? processorsFor(config);
  if (processors.length === 0) return disabledTelemetry(config);

  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    spanProcessors: processors,
    // Traces only: without these the SDK would also start OTLP log and metric exporters.
    logRecordProcessors: [],
    metricReaders: [],
    // Synchronous detectors only: the host detector's async machine id would delay every
    // export until it resolves. The env detector keeps OTEL_RESOURCE_ATTRIBUTES.
    resourceDetectors: [envDetector, processDetector],
  });
  sdk.start();

  let stopping: Promise<void> | undefined;
  return {
    config,
    enabled: true,
    forceFlush: async () => {
      await Promise.all(processors.map((p) => p.forceFlush()));
    },
    shutdown: () => {
      stopping ??= sdk.shutdown().finally(() => {
        // Unregister the globals so a later startTelemetry() in the same process works.
        trace.disable();
        propagation.disable();
        context.disable();
      });
      return stopping;
    },
  };
}

function processorsFor(config: TelemetryConfig): SpanProcessor[] {
  switch (config.exporter) {
    case 'otlp':
      // Other OTEL_EXPORTER_OTLP_* settings (headers, timeout) the exporter reads itself.
      return [new BatchSpanProcessor(new OTLPTraceExporter(config.tracesUrl ? { url: config.tracesUrl } : {}))];
    case 'console':
      return [new SimpleSpanProcessor(new StderrSpanExporter())];
    case 'none':
      return [];
  }
}

function disabledTelemetry(config: TelemetryConfig): Telemetry {
  return { config, enabled: false, forceFlush: async () => {}, shutdown: async () => {} };
}
