/**
 * Does a new topic take writes as soon as the broker's metadata names its leaders?
 *
 *   npx tsx tools/kafka/leader-readiness.ts [--rounds 15] [--serving] [--brokers 127.0.0.1:9092]
 *
 * Each round creates a 3-partition topic without kafkajs's own leader wait, waits until
 * the metadata names a leader for every partition (with --serving: until ListOffsets is
 * answered too, as `ensureTopics` does), then writes 2,000 records in 500-record sends
 * with a plain (non-idempotent) producer and counts what the topic holds. On Kafka 4.1
 * (KRaft) the metadata-only wait lets a send fail NOT_LEADER_OR_FOLLOWER and its retry
 * write some partitions twice. Leaves its dupexp-* topics behind.
 */
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

const { values: v } = parseArgs({
  options: { rounds: { type: 'string', default: '15' }, serving: { type: 'boolean', default: false }, brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' } },
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const warnings: Record<string, number> = {};
const kafka = new Kafka({
  brokers: v.brokers!.split(','),
  logLevel: logLevel.WARN,
  logCreator: () => (entry) => {
    const log = entry.log as Record<string, unknown>;
    const text = String(log.error ?? log.message).slice(0, 80);
    warnings[text] = (warnings[text] ?? 0) + 1;
  },
});
const admin = kafka.admin();
await admin.connect();
const held: number[] = [];
for (let round = 0; round < Number(v.rounds); round++) {
  const topic = `dupexp-${Date.now()}-${round}`;
  await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: 3 }] });
  for (;;) {
    const named = await admin
      .fetchTopicMetadata({ topics: [topic] })
      .then(({ topics }) => topics[0]!.partitions.length === 3 && topics[0]!.partitions.every((p) => p.leader >= 0))
      .catch(() => false);
    if (named) break;
    await sleep(100);
  }
  while (v.serving) {
    if (await admin.fetchTopicOffsets(topic).then(() => true, () => false)) break;
    await sleep(100);
  }
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < 2000; i += 500) {
    await producer.send({ topic, messages: Array.from({ length: 500 }, (_, j) => ({ key: `k${i + j}`, value: 'v' })) });
  }
  await producer.disconnect();
  held.push((await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0));
}
await admin.disconnect();
console.log(JSON.stringify({ serving: v.serving, rounds: held.length, roundsWithDuplicates: held.filter((n) => n !== 2000).length, recordsHeld: held, warnings }, null, 2));
