/**
 * OpenTelemetry metrics for one process: a MeterProvider with the readers the
 * environment asks for (OTLP/HTTP, protobuf or JSON, or console pushes, see {@link metricsConfigFromEnv})
 * and, when `prometheus` is set, a Prometheus pull reader whose text a
 * {@link startMetricsServer} serves at `/metrics`. With neither, nothing is started and
 * the pipeline gets {@link NOOP_PIPELINE_METRICS}.
 *
 * The provider is not registered globally: the pipeline gets its instruments from
 * `metrics.pipeline`, so two pipelines in one process (tests, the demo) never share state.
 */
import { OTLPMetricExporter as OTLPJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { envDetector, processDetector, detectResources, resourceFromAttributes } from '@opentelemetry/resources';
import { ConsoleMetricExporter, MeterProvider, type MetricProducer, type MetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { DEFAULT_SERVICE_NAME, type MetricsConfig, metricsConfigFromEnv } from './config.js';
import { LocalAggregates } from './local-aggregates.js';
import { NOOP_PIPELINE_METRICS, type PipelineMetrics, createPipelineMetrics } from './pipeline-metrics.js';

export interface MetricsOptions {
  serviceName?: string;
  /** Keep a Prometheus pull reader (for `--metrics-port`). */
  prometheus?: boolean;
  /** Replaces the env-chosen push readers (tests, the bench); each must take `producers` as its metricProducers. */
  readers?: (producers: MetricProducer[]) => MetricReader[];
  env?: NodeJS.ProcessEnv;
}

export interface Metrics {
  readonly config: MetricsConfig;
  readonly enabled: boolean;
  /** The pipeline's instruments (the no-op when disabled). */
  readonly pipeline: PipelineMetrics;
  /** The pull reader `/metrics` serves, when `prometheus` was asked for. */
  readonly prometheus: PrometheusExporter | undefined;
  /** Pushes what was recorded so far. */
  forceFlush(): Promise<void>;
  /** Pushes a last time and stops; later calls return the first call's promise. */
  shutdown(): Promise<void>;
}

export function startMetrics(options: MetricsOptions = {}): Metrics {
  const env = options.env ?? process.env;
  const config = metricsConfigFromEnv(env);
  // The pipeline's hot-path aggregates join every collection of every reader.
  const local = new LocalAggregates(SCOPE);
  const producers = [local];
  const prometheus = options.prometheus ? new PrometheusExporter({ preventServerStart: true, metricProducers: producers }) : undefined;
  const readers: MetricReader[] = [...(options.readers ? options.readers(producers) : pushReaders(config, producers)), ...(prometheus ? [prometheus] : [])];
  if (readers.length === 0) {
    return { config, enabled: false, pipeline: NOOP_PIPELINE_METRICS, prometheus: undefined, forceFlush: async () => {}, shutdown: async () => {} };
  }
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || options.serviceName || DEFAULT_SERVICE_NAME;
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }).merge(detectResources({ detectors: [envDetector, processDetector] }));
  const provider = new MeterProvider({ resource, readers });
  let stopping: Promise<void> | undefined;
  return {
    config,
    enabled: true,
    pipeline: createPipelineMetrics(provider.getMeter(SCOPE), local),
    prometheus,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => (stopping ??= provider.shutdown()),
  };
}

const SCOPE = 'teacherlm-stream';

function pushReaders(config: MetricsConfig, metricProducers: MetricProducer[]): MetricReader[] {
  const every = { exportIntervalMillis: config.exportIntervalMs, exportTimeoutMillis: Math.min(30_000, config.exportIntervalMs), metricProducers };
  switch (config.exporter) {
    case 'otlp': {
      // Other OTEL_EXPORTER_OTLP_* settings (headers, timeout, temporality) the exporter reads itself.
      const target = config.metricsUrl ? { url: config.metricsUrl } : {};
      const exporter = config.protocol === 'http/json' ? new OTLPJsonMetricExporter(target) : new OTLPProtoMetricExporter(target);
      return [new PeriodicExportingMetricReader({ exporter, ...every })];
    }
    case 'console':
      return [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), ...every })];
    case 'none':
      return [];
  }
}
