/**
 * The streaming service, assembled in one place for `teacherlm run`, the demo and the
 * pipeline bench, so all three run the same configuration: the topology's topics
 * (created if missing), its codecs (schemas registered when a format is `confluent`),
 * its engines, then per run a Kafka source and sink and the pipeline over them (which
 * traces its samples when a tracing SDK is registered, see pipeline/sample-tracing.ts).
 *
 * @example
 * const service = await openPipelineService({ kafka, topology, log });
 * const handle = await service.run({ untilIdleMs: 5_000 });
 * await handle.done;
 * await service.close();
 */
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '../kafka/admin.js';
import { KafkaSink } from '../kafka/sink.js';
import { PartitionTransactions } from '../kafka/partition-transactions.js';
import { KafkaSource, consumerTimeouts, type KafkaSourceOptions } from '../kafka/source.js';
import { createGenerators } from '../pipeline/generators.js';
import { createFaithfulnessScorers } from '../quality/faithfulness-scorers.js';
import { runPipeline, type PipelineHandle, type PipelineOptions } from '../pipeline/pipeline.js';
import type { RecordSink, RecordSource } from '../pipeline/ports.js';
import type { Topology } from '../pipeline/topology.js';
import { openTopologyCodecs, type OpenedCodecs } from './topology-codecs.js';
import type { TextGenerator } from '../teacher/types.js';

/**
 * Records per kafkajs sendBatch for the pipeline's sink: up to the produce operator's
 * four 256-record sends in flight, gathered into one request. The broker refuses a
 * partition's record batch above `max.message.bytes` (1 MiB by default); the sink's
 * `maxBatchBytes` (900 kB) caps each request below that whatever the record count.
 * Why 1,024 (measured against 256): README, "Development".
 */
export const PIPELINE_SINK_MAX_BATCH_RECORDS = 1024;

export interface PipelineServiceOptions {
  kafka: Kafka;
  topology: Topology;
  /** Structured events of the assembly: topics-ready, registry and schemas-registered (a `confluent` format), engine (its log lines), engines-ready. */
  log?: (event: Record<string, unknown>) => void;
}

export interface PipelineRunOptions extends Pick<PipelineOptions, 'untilIdleMs' | 'maxRecords' | 'drainTimeoutMs' | 'log' | 'scheduler' | 'metrics'> {
  /** Consumer group of this run; default the topology's. */
  group?: string;
  /** Delivery of this run; default the topology's (the bench compares both on one service). */
  delivery?: Topology['delivery'];
  /** Source options beyond the topology's (e.g. `lagRefreshMs`). */
  source?: Pick<KafkaSourceOptions, 'lagRefreshMs' | 'pausedHeartbeatMs'>;
  /** Wraps the source and sink (the bench times them); default none. */
  wrap?: { source?: (source: RecordSource) => RecordSource; sink?: (sink: RecordSink) => RecordSink };
}

export interface PipelineService {
  /** The engines by key, started once and shared by every run. */
  readonly generators: ReadonlyMap<string, TextGenerator>;
  /** The topology's codecs and a reader of what they write. */
  readonly codecs: OpenedCodecs;
  /** Starts the pipeline on a new source and sink; the pipeline stops and closes them. */
  run(options?: PipelineRunOptions): Promise<PipelineHandle>;
  /** Closes the engines, then releases the registry. */
  close(): Promise<void>;
}

/** The source and sink of one run, as the service builds them. */
export function pipelineEdges(
  kafka: Kafka,
  topology: Topology,
  options: Pick<PipelineRunOptions, 'group' | 'source' | 'scheduler' | 'log'> = {},
): { source: KafkaSource; sink: KafkaSink } {
  const log = options.log;
  const source = new KafkaSource({
    kafka,
    groupId: options.group ?? topology.consumer.group,
    topics: [topology.input.topic],
    fromBeginning: topology.consumer.fromBeginning,
    consumer: consumerTimeouts(topology),
    ...(log ? { onEvent: (event: Record<string, unknown>) => log(event) } : {}),
    ...options.source,
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
  });
  // The sink reads the output topics' max.message.bytes on connect, to split sends to fit.
  const sink = new KafkaSink({ kafka, maxBatchRecords: PIPELINE_SINK_MAX_BATCH_RECORDS, topics: [topology.output.topic, topology.deadLetter.topic] });
  return { source, sink };
}

/** Creates the topology's topics and starts its engines; {@link PipelineService.run} then starts pipelines. */
export async function openPipelineService(options: PipelineServiceOptions): Promise<PipelineService> {
  const { kafka, topology } = options;
  const log = options.log ?? (() => {});
  await ensureTopics(kafka, [topology.input, topology.output, topology.deadLetter]);
  log({ event: 'topics-ready', topics: [topology.input.topic, topology.output.topic, topology.deadLetter.topic] });
  const codecs = await openTopologyCodecs(topology, (message) => log({ event: 'registry', message }));
  if (codecs.registryUrl) log({ event: 'schemas-registered', registry: codecs.registryUrl });
  const generators = await createGenerators(topology, (message) => log({ event: 'engine', message })).catch(async (err: unknown) => {
    await codecs.close();
    throw err;
  });
  const scorers = await createFaithfulnessScorers(topology).catch(async (err: unknown) => {
    await Promise.allSettled([...generators.values()].map((g) => g.close()));
    await codecs.close();
    throw err;
  });
  log({ event: 'engines-ready', engines: [...generators.values()].map((g) => g.modelId) });
  return {
    generators,
    codecs,
    async run(runOptions = {}) {
      const { group, source: sourceOptions, wrap, delivery = topology.delivery, ...pipelineOptions } = runOptions;
      const edges = pipelineEdges(kafka, topology, { group, source: sourceOptions, scheduler: runOptions.scheduler, log: runOptions.log });
      await edges.sink.connect();
      const { source, sink } = edges;
      // Exactly-once: one transaction per input partition at each commit (src/kafka/partition-transactions.ts).
      const transactions =
        delivery === 'exactly-once'
          ? new PartitionTransactions({
              kafka,
              groupId: group ?? topology.consumer.group,
              maxRecordBytes: (topic) => edges.sink.maxRecordBytes(topic),
              refreshLimits: () => edges.sink.readTopicLimits(),
              ...(runOptions.log ? { onEvent: runOptions.log } : {}),
              ...(runOptions.metrics ? { metrics: runOptions.metrics } : {}),
            })
          : undefined;
      return runPipeline({
        topology: delivery === topology.delivery ? topology : { ...topology, delivery },
        source: wrap?.source ? wrap.source(source) : source,
        sink: wrap?.sink ? wrap.sink(sink) : sink,
        ...(transactions ? { transactions } : {}),
        generators,
        ...(scorers.size > 0 ? { scorers } : {}),
        codecs: codecs.codecs,
        ...pipelineOptions,
      });
    },
    close: async () => {
      await Promise.allSettled([...generators.values(), ...scorers.values()].map((g) => g.close()));
      await codecs.close();
    },
  };
}
