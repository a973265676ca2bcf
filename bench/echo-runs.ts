/**
 * The echo pipeline runs the Kafka benches share (bench/pipeline.bench.ts,
 * bench/telemetry-profile.bench.ts): the service's pipeline timed over a produced backlog
 * (its samples, fresh topics and backlog come from bench/delivery/workload.ts), and telemetry as `teacherlm run` configures it
 * with exporters that do the SDK's work (spans serialized to OTLP protobuf) and drop it.
 */
import { Subject, tap } from 'rxjs';
import { ExportResultCode } from '@opentelemetry/core';
import { PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { runPipeline } from '../src/pipeline/pipeline.js';
import type { OutRecord, RecordSink, RecordSource, SourceRecord } from '../src/pipeline/ports.js';
import type { Topology } from '../src/pipeline/topology.js';
import type { PipelineService } from '../src/service/pipeline-service.js';
import type { TextGenerator } from '../src/teacher/types.js';
import { SPAN_BATCH_DEFAULTS } from '../src/telemetry/config.js';
import { startMetrics } from '../src/telemetry/metrics-setup.js';
import type { PipelineMetrics } from '../src/telemetry/pipeline-metrics.js';
import { startTelemetry } from '../src/telemetry/setup.js';
import { traceSerializer } from '../src/telemetry/otlp-proto-span-exporter.js';
import type { TelemetryConfig } from './telemetry-configs.js';

const OPTIONAL_SOURCE_PARTS = ['assigned', 'caughtUp', 'committedOffsets', 'seek', 'rebalances', 'lagByPartition'] as const;

/**
 * Wraps a pipeline's source and sink to time a run from its first record consumed to its
 * last send acknowledged (what the benches report as records/s).
 */
export class TimedEdges {
  private firstAt = 0;
  private lastAckAt = 0;

  readonly wrap = {
    source: (source: RecordSource): RecordSource => {
      const wrapped: RecordSource = {
        records: () => source.records().pipe(tap(() => (this.firstAt ||= performance.now()))),
        pause: (topic, partition) => source.pause(topic, partition),
        resume: (topic, partition) => source.resume(topic, partition),
        commit: (offsets) => source.commit(offsets),
        stop: () => source.stop(),
        stats: () => source.stats(),
      };
      // The optional parts too (exactly-once needs committedOffsets and seek): a missing one would change how the pipeline runs.
      for (const name of OPTIONAL_SOURCE_PARTS) if (source[name]) Object.assign(wrapped, { [name]: source[name].bind(source) });
      return wrapped;
    },
    sink: (sink: RecordSink): RecordSink => ({
      send: async (records: OutRecord[]) => {
        await sink.send(records);
        this.lastAckAt = performance.now();
      },
      flush: () => sink.flush(),
      close: () => sink.close(),
      ...(sink.maxRecordBytes ? { maxRecordBytes: sink.maxRecordBytes.bind(sink) } : {}),
    }),
  };

  seconds(): number {
    return (this.lastAckAt - this.firstAt) / 1000;
  }
}

/**
 * Runs the service's pipeline (as `teacherlm run` assembles it) over a produced backlog
 * in consumer group `group`; times first record consumed -> last ack.
 */
export async function timePipeline(service: PipelineService, group: string, n: number, onTick?: () => void, metrics?: PipelineMetrics) {
  const timed = new TimedEdges();
  const ticker = onTick ? setInterval(onTick, 20) : undefined;
  const cpuBefore = process.cpuUsage();
  const handle = await service.run({ group, maxRecords: n, source: { lagRefreshMs: 0 }, wrap: timed.wrap, ...(metrics ? { metrics } : {}) });
  const summary = await handle.done;
  const cpu = process.cpuUsage(cpuBefore);
  if (ticker) clearInterval(ticker);
  const seconds = timed.seconds();
  return { seconds, rate: n / seconds, summary, cpuMicrosPerRecord: (cpu.user + cpu.system) / n };
}

/**
 * An exporter that serializes what it gets to OTLP protobuf, as the OTLP exporter does
 * (with the project's encoder, or the SDK's serializer for `+sdk-encoder`), and drops the
 * bytes: the exporter's work without a collector's.
 */
export const exported = { spans: 0, bytes: 0 };
const ourSerializer = traceSerializer();
export function dropSpans(encoder: TelemetryConfig['encoder'] = 'ours'): SpanExporter {
  const serializer = encoder === 'sdk' ? ProtobufTraceSerializer : ourSerializer;
  return {
    export: (spans, done) => {
      exported.spans += spans.length;
      exported.bytes += serializer.serializeRequest(spans)?.length ?? 0;
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: async () => {},
  };
}

export const dropMetrics: PushMetricExporter = { export: (_metrics, done) => done({ code: ExportResultCode.SUCCESS }), forceFlush: async () => {}, shutdown: async () => {} };

/** Telemetry on for one run, as `config` says: the pipeline's metrics to pass to the run, and its shutdown (which flushes and exports what is left). */
export function startBenchTelemetry(config: TelemetryConfig): { metrics: PipelineMetrics | undefined; shutdown: () => Promise<void> } {
  // The SDK's sampler is read from the environment when it starts.
  process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
  process.env.OTEL_TRACES_SAMPLER_ARG = String(config.ratio);
  const tracing = config.tracing ? startTelemetry({ serviceName: 'teacherlm-bench', spanProcessors: [new BatchSpanProcessor(dropSpans(config.encoder), { ...SPAN_BATCH_DEFAULTS })] }) : undefined;
  const metrics = config.metrics
    ? startMetrics({
        serviceName: 'teacherlm-bench',
        prometheus: true,
        readers: (metricProducers) => [new PeriodicExportingMetricReader({ exporter: dropMetrics, exportIntervalMillis: 1_000, metricProducers })],
        env: {},
      })
    : undefined;
  return {
    metrics: metrics?.pipeline,
    shutdown: async () => {
      await metrics?.shutdown();
      await tracing?.shutdown();
    },
  };
}

/**
 * The pipeline core alone over `values`: an in-memory source and a sink that acknowledges
 * at once, so decode -> teachers -> encode without the Kafka client.
 */
export async function runCoreOnce(topology: Topology, generators: ReadonlyMap<string, TextGenerator>, values: readonly Buffer[], metrics?: PipelineMetrics) {
  const input = new Subject<SourceRecord>();
  const source: RecordSource = {
    records: () => input,
    pause: () => {},
    resume: () => {},
    commit: async () => {},
    stop: async () => input.complete(),
    stats: () => ({ pauses: 0, resumes: 0, consumed: 0 }),
  };
  const sink: RecordSink = { send: async () => {}, flush: async () => {}, close: async () => {} };
  const handle = runPipeline({ topology: { ...topology, batching: { ...topology.batching, queueLimit: values.length + 1 } }, source, sink, generators, maxRecords: values.length, ...(metrics ? { metrics } : {}) });
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < values.length; i++) {
    input.next({ topic: 'in', partition: i % 3, offset: String(Math.floor(i / 3)), key: null, value: values[i] as Buffer, headers: {}, timestamp: '0' });
    if (i % 1_000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  await handle.done;
  const cpu = process.cpuUsage(cpuBefore);
  return { rate: values.length / ((performance.now() - t0) / 1000), cpuMicrosPerRecord: (cpu.user + cpu.system) / values.length };
}
