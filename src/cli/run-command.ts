/**
 * `teacherlm run [--topology FILE]`: the long-running service. Resolves the brokers,
 * creates the topology's topics, starts its engines and runs the pipeline until a
 * signal (graceful: SIGINT/SIGTERM; a second one forces exit), `--until-idle MS` or
 * `--max-records N`.
 *
 * Tracing follows OTEL_* (src/telemetry/config.ts): each sampled sample's `<topic> process`
 * span, with one span per stage, continues its producer's trace, and the augmented record
 * carries it on (pipeline/sample-tracing.ts).
 */
import { parseArgs } from 'node:util';
import { intArg, nonEmptyString } from '../options.js';
import type { PipelineStats, PipelineSummary } from '../pipeline/pipeline.js';
import { openPipelineService, type PipelineService } from '../service/pipeline-service.js';
import { signalHandler } from './signal-handler.js';
import { openCliKafka, topologyOption } from './cli-kafka.js';
import type { Command } from './command.js';
import { startWorkerMetrics } from '../telemetry/worker-metrics.js';
import { startStatus } from './run-status.js';

const HELP = `Usage: teacherlm run [--topology FILE] [options]

Runs the streaming pipeline: input topic -> teachers -> augmented / dead-letter topics.

Options:
  --topology FILE     topology YAML (default: topologies/default.yaml)
  --group NAME        consumer group (default: the topology's)
  --until-idle MS     stop after MS with nothing consumed and nothing in flight
  --max-records N     stop after N input records were written (augmented or dead-lettered)
  --drain-timeout MS  on shutdown, wait this long for in-flight work (default 30000)
  --metrics-port N    serve /metrics (Prometheus text), /healthz and /readyz on port N
  --metrics-host H    address for --metrics-port (default 127.0.0.1; 0.0.0.0 in a container)
  -h, --help          this help

Brokers: KAFKA_BROKERS, else Docker (testcontainers), else the local broker, started on demand.
Registry (format: confluent): SCHEMA_REGISTRY_URL, else the local Apicurio Registry, started on demand.
Tracing: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf|http/json, OTEL_TRACES_EXPORTER=otlp|console|none,
  OTEL_TRACES_SAMPLER (default parentbased_always_on; e.g. parentbased_traceidratio), OTEL_TRACES_SAMPLER_ARG, OTEL_SERVICE_NAME.
Metrics: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_METRICS_EXPORTER=otlp|console|none, OTEL_METRIC_EXPORT_INTERVAL (ms).`;

export const runCommand: Command = {
  summary: 'run the streaming pipeline (Kafka in, teachers, Avro out)',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        topology: { type: 'string' },
        group: { type: 'string' },
        'until-idle': { type: 'string' },
        'max-records': { type: 'string' },
        'drain-timeout': { type: 'string' },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const untilIdleMs = intArg('--until-idle', values['until-idle'], { min: 0 });
    const maxRecords = intArg('--max-records', values['max-records']);
    const drainTimeoutMs = intArg('--drain-timeout', values['drain-timeout'], { min: 0 });
    const metricsPort = intArg('--metrics-port', values['metrics-port'], { min: 0, max: 65_535 });
    const metricsHost = values['metrics-host'] === undefined ? undefined : nonEmptyString('--metrics-host', values['metrics-host'], 'a host name or address');
    const topology = topologyOption(values.topology);
    if (values.group !== undefined) {
      topology.consumer.group = nonEmptyString('--group', values.group, 'a non-empty name');
    }

    const out = process.stderr;
    const logLine = (fields: Record<string, unknown>) =>
      out.write(out.isTTY ? `teacherlm: ${String(fields.event)} ${JSON.stringify(fields)}\n` : `${JSON.stringify({ ts: new Date().toISOString(), ...fields })}\n`);
    // Telemetry starts before anything traced and `close` shuts it down after it all, so every span is exported.
    // First, so /readyz answers (503) while brokers, topics and engines come up.
    const worker = await startWorkerMetrics({ serviceName: 'teacherlm-run', ...(metricsPort !== undefined ? { port: metricsPort } : {}), ...(metricsHost ? { host: metricsHost } : {}) });
    if (worker.port !== undefined) logLine({ event: 'metrics-listening', port: worker.port });
    const { kafka, brokers, close } = await openCliKafka('teacherlm-run').catch(async (err: unknown) => {
      await worker.close();
      throw err;
    });
    let service: PipelineService | undefined;
    try {
      service = await openPipelineService({
        kafka,
        topology,
        log: (event) => logLine(event.event === 'topics-ready' ? { ...event, brokers: brokers.brokers } : event),
      });
      const running: { handle?: { stats(): PipelineStats } } = {};
      const reporter = startStatus({ stats: () => running.handle?.stats(), queueLimit: topology.batching.queueLimit, out });
      const log = (fields: Record<string, unknown>) => reporter.event(fields);
      worker.enginesLoaded();
      const handle = await service.run({
        untilIdleMs,
        maxRecords,
        drainTimeoutMs,
        log,
        metrics: worker.pipeline,
        wrap: {
          source: (source) => {
            worker.watch({ source: { assigned: () => source.assigned?.() ?? [] }, kafka });
            return source;
          },
        },
      });
      running.handle = handle;
      const onSignal = signalHandler({
        shutdown: (signal) => {
          log({ event: 'shutting-down', signal });
          return handle.stop(signal);
        },
        forceExit: (signal) => {
          log({ event: 'forced-exit', signal });
          process.exit(130);
        },
      });
      process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
      let summary: PipelineSummary;
      try {
        summary = await handle.done;
      } finally {
        // Once, before the summary line, so no live line is drawn after it.
        reporter.stop();
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
      const { shutdown, ...rest } = summary;
      logLine({ event: 'summary', ...rest, drained: shutdown.drained, committed: shutdown.committed });
      return shutdown.committed ? 0 : 1;
    } finally {
      await service?.close();
      await worker.close();
      await close();
    }
  },
};
