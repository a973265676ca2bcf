/** Inputs and read-back helpers for the pipeline's integration tests on the real broker. */
import type { Kafka, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { createGenerators } from '../../src/pipeline/generators.js';
import { ensureTopics } from '../../src/kafka/admin.js';
import { parseTopology, type Topology } from '../../src/pipeline/topology.js';
import { recordCodecs } from '../../src/records/codecs.js';
import type { AugmentedSample, DeadLetter } from '../../src/records/types.js';
import type { TextGenerator } from '../../src/teacher/types.js';
import { testKafka, uniqueName } from '../support/brokers.js';

const codecs = recordCodecs();

const TINY_LLAMA = 'test/fixtures/models/tiny-llama';

/**
 * The real broker's client and the echo topology's engines, opened before a file's tests
 * and closed after them (read the fields inside tests, not at collection time).
 */
export function echoPipelineEnv(): { kafka: Kafka; generators: Map<string, TextGenerator> } {
  const env = {} as { kafka: Kafka; generators: Map<string, TextGenerator> };
  beforeAll(async () => {
    env.kafka = testKafka();
    env.generators = await createGenerators(testTopology({ echo: true }));
  });
  afterAll(async () => {
    await Promise.all([...(env.generators?.values() ?? [])].map((g) => g.close()));
  });
  return env;
}

export interface InputSet {
  validIds: Set<string>;
  /** Input offsets ("partition:offset") of the malformed records, by the id they were produced under. */
  malformedIds: Set<string>;
}

/** A topology on fresh topics: 3 input partitions, the tiny model (or echo) writing all three annotations. */
export function testTopology(patch: { queueLimit?: number; echo?: boolean; group?: string } = {}): Topology {
  const teacher = (annotation: string) =>
    patch.echo
      ? { annotation, kind: 'echo', generation: { maxNewTokens: 4 } }
      : { annotation, model: TINY_LLAMA, promptStyle: 'chat', generation: { maxNewTokens: 4, temperature: 0 } };
  return parseTopology({
    input: { topic: uniqueName('raw'), partitions: 3, format: 'auto' },
    output: { topic: uniqueName('augmented'), partitions: 3 },
    deadLetter: { topic: uniqueName('dead-letter'), partitions: 1 },
    consumer: { group: patch.group ?? uniqueName('pipeline') },
    teachers: ['fundamentals', 'cot', 'mistakes'].map(teacher),
    batching: { maxBatchSize: 16, maxBatchTokens: 4096, maxWaitMs: 20, queueLimit: patch.queueLimit ?? 256 },
    engine: { workers: 1, threads: 1, device: 'cpu', dtype: 'fp32' },
    retry: { maxAttempts: 2, initialBackoffMs: 50, maxBackoffMs: 200 },
  });
}

/** Malformed values of several kinds: not JSON nor Avro, broken JSON, invalid samples, truncated Avro. */
function malformed(i: number, id: string): Buffer {
  switch (i % 4) {
    case 0:
      return Buffer.from(`garbage ${id}`);
    case 1:
      return Buffer.from(`{"id": "${id}", "task": `);
    case 2:
      return Buffer.from(JSON.stringify({ id, task: 'CREAK', answer: '(A)' })); // no question
    default: {
      const avro = codecs.rawSample.encode({ id, task: 'CREAK', question: 'q', answer: 'a', context: null, metadata: {} });
      return avro.subarray(0, avro.length - 4);
    }
  }
}

/**
 * Creates the topology's topics and produces `n` samples keyed by id: half JSON, half
 * Avro, every 50th (2%) malformed.
 */
export async function produceInputs(kafka: Kafka, topology: Topology, n: number): Promise<InputSet> {
  await ensureTopics(kafka, [topology.input, topology.output, topology.deadLetter]);
  const validIds = new Set<string>();
  const malformedIds = new Set<string>();
  const messages = Array.from({ length: n }, (_, i) => {
    const id = `sample-${i}`;
    const sample = { id, task: 'CREAK', question: `Is ${i} an even number? (A) True (B) False`, answer: i % 2 ? '(B)' : '(A)', context: null, metadata: { n: String(i) } };
    let value: Buffer;
    if (i % 50 === 49) {
      value = malformed(Math.floor(i / 50), id);
      malformedIds.add(id);
    } else {
      value = i % 2 === 0 ? Buffer.from(JSON.stringify(sample)) : codecs.rawSample.encode(sample);
      validIds.add(id);
    }
    return { key: id, value };
  });
  // Idempotent: a retried send must not write a sample twice (the counts below are exact).
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < messages.length; i += 500) await producer.send({ topic: topology.input.topic, messages: messages.slice(i, i + 500) });
  await producer.disconnect();
  // Every count the tests assert assumes the topic holds each sample exactly once.
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topology.input.topic);
  await admin.disconnect();
  const held = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  if (held !== n) throw new Error(`the input topic holds ${held} records, not the ${n} produced`);
  return { validIds, malformedIds };
}

/** Reads a topic from the beginning until `until(records)` holds or `timeoutMs` passes; `decode` also sees the whole message (headers). */
export async function readTopic<T>(
  kafka: Kafka,
  topic: string,
  decode: (value: Buffer, message: KafkaMessage) => T,
  until: (records: T[]) => boolean,
  timeoutMs = 60_000,
): Promise<T[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 200 });
  const records: T[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void records.push(decode(message.value as Buffer, message)) });
  const deadline = Date.now() + timeoutMs;
  while (!until(records) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  return records;
}

/** The first `count` messages of a topic, whole (key, value, headers). */
export const readMessages = (kafka: Kafka, topic: string, count: number) =>
  readTopic<KafkaMessage>(kafka, topic, (_value, message) => message, (messages) => messages.length >= count);

export const readAugmented = (kafka: Kafka, topic: string, ids: Set<string>) =>
  readTopic<AugmentedSample>(kafka, topic, (v) => codecs.augmentedSample.decode(v), (rs) => new Set(rs.map((r) => r.id)).size >= ids.size);

/** Dead letters carry the original key: the sample id we produced under. */
export const readDeadLetters = (kafka: Kafka, topic: string, ids: Set<string>) =>
  readTopic<DeadLetter>(kafka, topic, (v) => codecs.deadLetter.decode(v), (rs) => new Set(rs.map((r) => r.key?.toString())).size >= ids.size);

/** Committed offsets of a group equal the log end of every input partition. */
export async function groupCaughtUp(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return ends.every((end) => committed?.partitions.find((p) => p.partition === end.partition)?.offset === end.high);
  } finally {
    await admin.disconnect();
  }
}
