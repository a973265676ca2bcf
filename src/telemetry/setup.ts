/**
 * OpenTelemetry for one process: `startTelemetry()` registers the tracer provider and the
 * W3C trace-context propagator (and, when asked, the async-hooks context manager);
 * `shutdown()` flushes and unregisters them, and is safe to call more than once.
 *
 * Exporter choice comes from {@link telemetryConfigFromEnv}; tests pass `spanProcessors`
 * (e.g. a SimpleSpanProcessor over an InMemorySpanExporter) instead.
 */
import { type ContextManager, ROOT_CONTEXT, context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, processDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, RandomIdGenerator, SimpleSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { SPAN_BATCH_DEFAULTS, type TelemetryConfig, telemetryConfigFromEnv } from './config.js';
import { FinishedSpans } from './finished-spans.js';
import { setActiveTracing } from './tracing-active.js';
import { samplerFor, traceSamplingFromEnv } from './trace-sampling.js';
import { StderrSpanExporter } from './stderr-span-exporter.js';
import { OtlpProtoSpanExporter } from './otlp-proto-span-exporter.js';

export interface TelemetryOptions {
  /** Service name unless `OTEL_SERVICE_NAME` overrides it (e.g. `teacherlm-produce`). */
  serviceName?: string;
  /** Replaces the env-chosen exporter; tests use an in-memory one. */
  spanProcessors?: SpanProcessor[];
  /** Registers the async-hooks context manager, for code that relies on `context.with` (default false). */
  contextManager?: boolean;
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

/** A context manager that tracks nothing: `context.active()` is the root, `with` just calls. */
const EXPLICIT_CONTEXTS: ContextManager = {
  active: () => ROOT_CONTEXT,
  with: (_context, fn, thisArg, ...args) => fn.call(thisArg, ...args),
  bind: (_context, target) => target,
  enable() {
    return this;
  },
  disable() {
    return this;
  },
};

export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  const config = telemetryConfigFromEnv(options.env ?? process.env, options.serviceName);
  const env = options.env ?? process.env;
  const processors = options.spanProcessors ?? processorsFor(config, env);
  if (processors.length === 0) return disabledTelemetry(config);
  // Ours, not the SDK's: the pipeline decides each record's sampling itself, the same way (trace-sampling.ts).
  const sampling = traceSamplingFromEnv(env);
  const ids = new RandomIdGenerator();

  // The resource the SDK's detection would make, made here so the spans the pipeline builds
  // finished (finished-spans.ts) carry the same one. Synchronous detectors only: the host
  // detector's async machine id would delay every export until it resolves. The env
  // detector keeps OTEL_RESOURCE_ATTRIBUTES.
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector, processDetector] }))
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }));

  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    spanProcessors: processors,
    sampler: samplerFor(sampling),
    idGenerator: ids,
    // No async-hooks context manager: the project passes contexts explicitly (a record's
    // headers, sample-tracing.ts), and AsyncLocalStorage's promise hooks, switched on by the
    // first context.with (the batch processor's export), would tax every promise kafkajs makes.
    ...(options.contextManager ? {} : { contextManager: EXPLICIT_CONTEXTS }),
    // Traces only: without these the SDK would also start OTLP log and metric exporters.
    logRecordProcessors: [],
    metricReaders: [],
  });
  sdk.start();
  setActiveTracing({ sampling, ids, spans: new FinishedSpans(processors, resource) });

  let stopping: Promise<void> | undefined;
  return {
    config,
    enabled: true,
    forceFlush: async () => {
      await Promise.all(processors.map((p) => p.forceFlush()));
    },
    shutdown: () => {
      setActiveTracing(undefined);
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

function processorsFor(config: TelemetryConfig, env: NodeJS.ProcessEnv): SpanProcessor[] {
  switch (config.exporter) {
    case 'otlp': {
      // Other OTEL_EXPORTER_OTLP_* settings (headers, timeout) the exporter reads itself.
      const target = config.tracesUrl ? { url: config.tracesUrl } : {};
      // Protobuf: the SDK's exporter with our encoder of the same bytes (otlp-proto-span-exporter.ts).
      const exporter = config.protocol === 'http/json' ? new OTLPJsonTraceExporter(target) : new OtlpProtoSpanExporter(target);
      return [new BatchSpanProcessor(exporter, spanBatchLimits(env))];
    }
    case 'console':
      return [new SimpleSpanProcessor(new StderrSpanExporter())];
    case 'none':
      return [];
  }
}

/** {@link SPAN_BATCH_DEFAULTS} for the limits OTEL_BSP_* leave unset (the processor reads those itself). */
function spanBatchLimits(env: NodeJS.ProcessEnv): Partial<Record<keyof typeof SPAN_BATCH_DEFAULTS, number>> {
  const limits: Partial<Record<keyof typeof SPAN_BATCH_DEFAULTS, number>> = {};
  if (!env.OTEL_BSP_MAX_QUEUE_SIZE?.trim()) limits.maxQueueSize = SPAN_BATCH_DEFAULTS.maxQueueSize;
  if (!env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE?.trim()) limits.maxExportBatchSize = SPAN_BATCH_DEFAULTS.maxExportBatchSize;
  if (!env.OTEL_BSP_SCHEDULE_DELAY?.trim()) limits.scheduledDelayMillis = SPAN_BATCH_DEFAULTS.scheduledDelayMillis;
  return limits;
}

function disabledTelemetry(config: TelemetryConfig): Telemetry {
  return { config, enabled: false, forceFlush: async () => {}, shutdown: async () => {} };
}
