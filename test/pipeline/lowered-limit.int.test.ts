/**
 * A topic's max.message.bytes lowered after the sink read it (on connect): the broker
 * answers MESSAGE_TOO_LARGE, and the sink splits the refused request and sends it again;
 * a record that cannot fit even alone is dead-lettered (RECORD_TOO_LARGE), and nothing
 * stops the stream.
 */
import kafkajs, { type Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { PartitionTransactions } from '../../src/kafka/partition-transactions.js';
import { KafkaSink } from '../../src/kafka/sink.js';
import { KafkaSource } from '../../src/kafka/source.js';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { RecordsRefused } from '../../src/pipeline/refused-records.js';
import { PIPELINE_SINK_MAX_BATCH_RECORDS } from '../../src/service/pipeline-service.js';
import { uniqueName } from '../support/brokers.js';
import { echoPipelineEnv, readAugmented, readDeadLetters, readMessages, testTopology } from './int-support.js';

const LOWERED = 20_000;

/** Lowers `topic`'s max.message.bytes and waits until the broker refuses a record above it. */
async function lowerLimit(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'max.message.bytes', value: String(LOWERED) }] }],
  });
  await admin.disconnect();
  const probe = kafka.producer({ retry: { retries: 0 } });
  await probe.connect();
  try {
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      const refused = await probe.send({ topic, messages: [{ key: 'probe', value: 'P'.repeat(LOWERED * 2) }] }).then(
        () => false,
        (err: { type?: string }) => err.type === 'MESSAGE_TOO_LARGE',
      );
      if (refused) return;
    }
    throw new Error(`${topic} still takes records above ${LOWERED} bytes`);
  } finally {
    await probe.disconnect();
  }
}

describe('a topic limit lowered after connect, on the real broker', () => {
  const env = echoPipelineEnv();

  it('splits a refused send to fit and rejects with only the record that cannot fit alone', async () => {
    const topic = uniqueName('lowered');
    await ensureTopics(env.kafka, [{ topic, partitions: 1 }]);
    const sink = new KafkaSink({ kafka: env.kafka, topics: [topic] });
    await sink.connect();
    await lowerLimit(env.kafka, topic);
    const small = Array.from({ length: 100 }, (_, i) => ({ topic, key: `s${i}`, value: Buffer.alloc(1_000, 1), headers: {} }));
    const big = { topic, key: 'big', value: Buffer.alloc(LOWERED * 2, 2), headers: {} };
    const records = [...small.slice(0, 50), big, ...small.slice(50)];
    const error = await sink.send(records).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(RecordsRefused);
    expect((error as RecordsRefused).records).toEqual([big]);
    expect(sink.maxRecordBytes(topic)).toBeLessThan(LOWERED);
    const written = await readMessages(env.kafka, topic, 100);
    expect(written.map((m) => m.key?.toString())).toEqual(small.map((r) => r.key)); // all, once, in order
    await sink.close();
  });

  it.each(['at-least-once', 'exactly-once'] as const)('%s: augments what fits and dead-letters what does not, when the limit drops after the sink connected', async (delivery) => {
    const topology = testTopology({ echo: true });
    topology.delivery = delivery;
    topology.deadLetter.configs = { 'max.message.bytes': '1048588' };
    await ensureTopics(env.kafka, [topology.input, topology.output, topology.deadLetter]);
    const small = new Set<string>();
    const big = new Set<string>();
    const messages = Array.from({ length: 600 }, (_, i) => {
      const id = i % 100 === 50 ? `big${i}` : `q${i}`;
      (id.startsWith('big') ? big : small).add(id);
      return { key: id, value: JSON.stringify({ id, task: 't', question: (id.startsWith('big') ? 'B' : 'Q').repeat(id.startsWith('big') ? 30_000 : 500), answer: 'A' }) };
    });
    const producer = env.kafka.producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < messages.length; i += 200) await producer.send({ topic: topology.input.topic, messages: messages.slice(i, i + 200) });
    await producer.disconnect();

    const source = new KafkaSource({ kafka: env.kafka, groupId: topology.consumer.group, topics: [topology.input.topic], lagRefreshMs: 0 });
    const sink = new KafkaSink({ kafka: env.kafka, maxBatchRecords: PIPELINE_SINK_MAX_BATCH_RECORDS, topics: [topology.output.topic, topology.deadLetter.topic] });
    await sink.connect(); // reads 1 MiB limits
    await lowerLimit(env.kafka, topology.output.topic);
    const transactions =
      delivery === 'exactly-once'
        ? new PartitionTransactions({ kafka: env.kafka, groupId: topology.consumer.group, maxRecordBytes: (t) => sink.maxRecordBytes(t), refreshLimits: () => sink.readTopicLimits() })
        : undefined;
    const summary = await runPipeline({ topology, source, sink, generators: env.generators, ...(transactions ? { transactions } : {}), commitIntervalMs: 500, untilIdleMs: 2_000 }).done;
    expect(summary).toMatchObject({ reason: 'idle', augmented: small.size, deadLettered: big.size });
    const augmented = await readAugmented(env.kafka, topology.output.topic, small);
    expect(new Set(augmented.filter((a) => a.id !== 'probe').map((a) => a.id))).toEqual(small);
    const dead = await readDeadLetters(env.kafka, topology.deadLetter.topic, big);
    expect(new Set(dead.map((d) => d.sampleId))).toEqual(big);
    expect(dead.every((d) => d.errorCode === 'RECORD_TOO_LARGE')).toBe(true);
  });
});
