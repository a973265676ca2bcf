/**
 * `teacherlm run [--topology FILE]`: the long-running service. Resolves the brokers,
 * creates the topology's topics, starts its engines and runs the pipeline until a
 * signal (graceful: SIGINT/SIGTERM; a second one forces exit), `--until-idle MS` or
 * `--max-records N`.
 *
 * Tracing follows OTEL_* (src/telemetry/config.ts): each sample's `<topic> process` span
 * continues its producer's trace, and the augmented record carries it on.
 */
import { parseArgs } from 'node:util';
import { intArg, nonEmptyString } from '../options.js';
import type { TextGenerator } from '../teacher/types.js';
import { ensureTopics } from '../kafka/admin.js';
import { PartitionTransactions } from '../kafka/partition-transactions.js';
import { KafkaSink } from '../kafka/sink.js';
import { KafkaSource, consumerTimeouts } from '../kafka/source.js';
import { createGenerators } from '../pipeline/generators.js';
import { runPipeline } from '../pipeline/pipeline.js';
import { openTopologyCodecs, type OpenedCodecs } from '../registry/topology-codecs.js';
import { SINK_MAX_BATCH_RECORDS } from '../pipeline/produce.js';
import { signalHandler } from './signal-handler.js';
import { recordTracing } from '../pipeline/traced-ports.js';
import { openCliKafka, topologyOption } from './cli-kafka.js';
import type { Command } from './command.js';
import { startStatus } from './run-status.js';

const HELP = `Usage: teacherlm run [--topology FILE] [options]

Runs the streaming pipeline: input topic -> teachers -> augmented / dead-letter topics.

Options:
  --topology FILE     topology YAML (default: topologies/default.yaml)
  --group NAME        consumer group (default: the topology's)
  --until-idle MS     stop after MS with nothing consumed and nothing in flight
  --max-records N     stop after N input records were written (augmented or dead-lettered)
  --drain-timeout MS  on shutdown, wait this long for in-flight work (default 30000)
  -h, --help          this help

Brokers: KAFKA_BROKERS, else Docker (testcontainers), else the local broker, started on demand.
Registry (format: confluent): SCHEMA_REGISTRY_URL, else the local Apicurio Registry, started on demand.
Tracing: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_EXPORTER=otlp|console|none, OTEL_SERVICE_NAME.`;

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
    const topology = topologyOption(values.topology);
    if (values.group !== undefined) {
      topology.consumer.group = nonEmptyString('--group', values.group, 'a non-empty name');
    }

    const out = process.stderr;
    const logLine = (fields: Record<string, unknown>) =>
      out.write(out.isTTY ? `teacherlm: ${String(fields.event)} ${JSON.stringify(fields)}\n` : `${JSON.stringify({ ts: new Date().toISOString(), ...fields })}\n`);
    // Telemetry starts before anything traced and `close` shuts it down after it all, so every span is exported.
    const { kafka, brokers, close } = await openCliKafka('teacherlm-run');
    const generators = new Map<string, TextGenerator>();
    let opened: OpenedCodecs | undefined;
    try {
      await ensureTopics(kafka, [topology.input, topology.output, topology.deadLetter]);
      logLine({ event: 'topics-ready', brokers: brokers.brokers, topics: [topology.input.topic, topology.output.topic, topology.deadLetter.topic] });
      opened = await openTopologyCodecs(topology, (message) => logLine({ event: 'registry', message }));
      if (opened.registryUrl) logLine({ event: 'schemas-registered', registry: opened.registryUrl });
      for (const [key, g] of await createGenerators(topology, (message) => logLine({ event: 'engine', message }))) generators.set(key, g);
      logLine({ event: 'engines-ready', engines: [...generators.values()].map((g) => g.modelId) });

      // A process span per record, child of its producer's, ended at the ack of its output.
      const tracing = recordTracing();
      const source = new KafkaSource({
        kafka,
        groupId: topology.consumer.group,
        topics: [topology.input.topic],
        fromBeginning: topology.consumer.fromBeginning,
        consumer: consumerTimeouts(topology),
        onEvent: (event) => log(event),
      });
      const sink = new KafkaSink({ kafka, maxBatchRecords: SINK_MAX_BATCH_RECORDS, topics: [topology.output.topic, topology.deadLetter.topic] });
      await sink.connect();
      // The reporter's first tick comes after an interval, when `handle` exists.
      const reporter = startStatus({ stats: () => handle.stats(), queueLimit: topology.batching.queueLimit, out });
      const log = (fields: Record<string, unknown>) => reporter.event(fields);
      const transactions =
        topology.delivery === 'exactly-once'
          ? new PartitionTransactions({ kafka, groupId: topology.consumer.group, maxRecordBytes: (topic) => sink.maxRecordBytes(topic), onEvent: (event) => log(event) })
          : undefined;
      const handle = runPipeline({
        topology,
        source: tracing.source(source),
        sink: tracing.sink(sink),
        ...(transactions ? { transactions: tracing.committer(transactions) } : {}),
        generators,
        codecs: opened.codecs,
        untilIdleMs,
        maxRecords,
        drainTimeoutMs,
        log,
      });
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
      try {
        const summary = await handle.done;
        reporter.stop();
        const { shutdown, ...rest } = summary;
        logLine({ event: 'summary', ...rest, drained: shutdown.drained, committed: shutdown.committed });
        return shutdown.committed ? 0 : 1;
      } finally {
        reporter.stop();
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
    } finally {
      await Promise.allSettled([...generators.values()].map((g) => g.close()));
      await opened?.close();
      await close();
    }
  },
};
