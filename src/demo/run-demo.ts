/**
 * `npm run demo`, the steps in order, and everything it started stopped in reverse:
 *
 * 1. brokers: KAFKA_BROKERS, else Docker, else the local broker (started on demand,
 *    stopped at the end if this run started it);
 * 2. the teacher model: imported if missing;
 * 3. the topology's topics, created if missing;
 * 4. the demo samples produced to the input topic (tagged with this run's id);
 * 5. the pipeline, run until every sample is augmented or dead-lettered (watched on the
 *    output topics, as a student trainer would), then stopped gracefully.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { IDENTITY_FIELD_MAP, type FieldMap } from '../records/field-map.js';
import { TeacherlmError } from '../errors.js';
import { ensureTopics } from '../kafka/admin.js';
import { PartitionTransactions } from '../kafka/partition-transactions.js';
import { KafkaSink } from '../kafka/sink.js';
import { KafkaSource, consumerTimeouts } from '../kafka/source.js';
import { createGenerators } from '../pipeline/generators.js';
import { runPipeline, type PipelineSummary } from '../pipeline/pipeline.js';
import type { Topology } from '../pipeline/topology.js';
import { type InputRow, readInputRows } from '../produce/input-rows.js';
import { mapToSample } from '../records/map-sample.js';
import { produceSamples } from '../produce/produce-samples.js';
import { openTopologyCodecs } from '../registry/topology-codecs.js';
import { recordTracing } from '../pipeline/traced-ports.js';
import type { TextGenerator } from '../teacher/types.js';
import { ensureModels } from './ensure-model.js';
import { type DemoOutcome, RUN_ID_KEY, watchResults } from './watch-results.js';

export interface DemoOptions {
  kafka: Kafka;
  topology: Topology;
  /** JSON-lines samples. */
  samplesFile: string;
  fieldMap?: FieldMap;
  root: string;
  /** Give up (and stop everything) after this long. */
  timeoutMs: number;
  log: (line: string) => void;
  onOutcome?: (id: string, outcome: DemoOutcome, seen: number, total: number) => void;
  /** Resolves to ask for an early, graceful stop (Ctrl-C). */
  interrupted?: Promise<string>;
}

export interface DemoResult {
  ids: string[];
  outcomes: Map<string, DemoOutcome>;
  pipeline: PipelineSummary;
  /** Why it ended before every sample was in, if it did. */
  incomplete?: string;
  seconds: number;
}

/** The demo file's rows, each tagged with the run id in its metadata, and their sample ids in order. */
export async function loadDemoRows(file: string, map: FieldMap, runId: string): Promise<{ rows: InputRow[]; ids: string[] }> {
  const rows: InputRow[] = [];
  const ids: string[] = [];
  for await (const row of readInputRows(file, 'jsonl')) {
    if (!row.record) throw new TeacherlmError('INVALID_SAMPLE', `${file}:${row.line}: ${row.error}`);
    const record = { ...row.record, [map.metadata]: { [RUN_ID_KEY]: runId } };
    ids.push(mapToSample(record, map, false).id);
    rows.push({ ...row, record });
  }
  if (ids.length === 0) throw new TeacherlmError('INVALID_OPTIONS', `${file} holds no samples`);
  if (new Set(ids).size !== ids.length) throw new TeacherlmError('INVALID_OPTIONS', `${file} repeats a sample id`);
  return { rows, ids };
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { kafka, topology, log } = options;
  const began = Date.now();
  const map = options.fieldMap ?? IDENTITY_FIELD_MAP;
  const runId = randomUUID();
  let stopRequested: string | undefined;
  void options.interrupted?.then((why) => (stopRequested = why));
  /** Before the pipeline runs, a Ctrl-C ends the demo between steps. */
  const checkpoint = () => {
    if (stopRequested) throw new TeacherlmError('SHUT_DOWN', `demo ${stopRequested} before the pipeline started`);
  };
  const { rows, ids } = await loadDemoRows(options.samplesFile, map, runId);

  await ensureModels(topology, { root: options.root, log });
  checkpoint();
  await ensureTopics(kafka, [topology.input, topology.output, topology.deadLetter]);
  checkpoint();
  log(`topics ready: ${topology.input.topic} -> ${topology.output.topic} (dead letters: ${topology.deadLetter.topic})`);
  // A topology with `format: confluent` gets the registry (SCHEMA_REGISTRY_URL, else the local one, started on demand).
  const opened = await openTopologyCodecs(topology, log);
  if (opened.registryUrl) log(`schemas registered in ${opened.registryUrl}`);

  const generators = new Map<string, TextGenerator>();
  const sink = new KafkaSink({ kafka });
  const watch = watchResults({
    kafka,
    topics: [topology.output.topic, topology.deadLetter.topic],
    reader: opened.reader,
    runId,
    ids,
    onOutcome: (id, outcome, seen) => options.onOutcome?.(id, outcome, seen, ids.length),
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    for (const [key, g] of await createGenerators(topology, log)) generators.set(key, g);
    log(`teachers ready: ${[...new Set([...generators.values()].map((g) => g.modelId))].join(', ')}`);
    checkpoint();

    await sink.connect();
    const totals = await produceSamples({
      rows: (async function* () {
        yield* rows;
      })(),
      sink,
      topic: topology.input.topic,
      fieldMap: map,
      fromCsv: false,
      valueFormat: 'json',
    });
    log(`produced ${totals.sent} samples to ${topology.input.topic}`);

    // One trace per sample: produce -> pipeline (process span, consume to ack) -> consumers.
    const tracing = recordTracing();
    const source = new KafkaSource({
      kafka,
      groupId: topology.consumer.group,
      topics: [topology.input.topic],
      fromBeginning: topology.consumer.fromBeginning,
      consumer: consumerTimeouts(topology),
    });
    const pipelineSink = new KafkaSink({ kafka, topics: [topology.output.topic, topology.deadLetter.topic] });
    await pipelineSink.connect();
    const transactions =
      topology.delivery === 'exactly-once'
        ? tracing.committer(new PartitionTransactions({ kafka, groupId: topology.consumer.group, maxRecordBytes: (topic) => pipelineSink.maxRecordBytes(topic) }))
        : undefined;
    const handle = runPipeline({
      topology,
      source: tracing.source(source),
      sink: tracing.sink(pipelineSink),
      ...(transactions ? { transactions } : {}),
      generators,
      codecs: opened.codecs,
      log: (event) => {
        if (event.event === 'fatal' || String(event.event).endsWith('failed')) log(`pipeline: ${JSON.stringify(event)}`);
      },
    });
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`timed out after ${options.timeoutMs / 1000} s`), options.timeoutMs);
    });
    const ended = await Promise.race([
      watch.done.then(() => undefined),
      handle.done.then((s) => `the pipeline stopped (${s.reason})`),
      timeout,
      ...(options.interrupted ? [options.interrupted] : []),
    ]);
    const pipeline = await handle.stop(ended ?? 'demo complete');
    return {
      ids,
      outcomes: watch.outcomes,
      pipeline,
      ...(ended ? { incomplete: ended } : {}),
      seconds: (Date.now() - began) / 1000,
    };
  } finally {
    clearTimeout(timer);
    await watch.stop();
    await sink.close();
    await Promise.allSettled([...generators.values()].map((g) => g.close()));
    await opened.close();
  }
}
