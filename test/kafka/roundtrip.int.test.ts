import { afterAll, describe, expect, it } from 'vitest';
import type { Consumer, Producer } from 'kafkajs';
import { ensureTopics } from '../../src/kafka/admin.js';
import { testKafka, uniqueName } from '../support/brokers.js';

const COUNT = 1_000;

describe('kafkajs round trip on the real broker', () => {
  const kafka = testKafka();
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
  });

  it(`produces ${COUNT} messages and consumes every one back in a consumer group`, async () => {
    const topic = uniqueName('roundtrip');
    await ensureTopics(kafka, [{ topic, partitions: 3 }]);

    const ids = Array.from({ length: COUNT }, (_, i) => `sample-${i}`);
    producer = kafka.producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < COUNT; i += 100) {
      await producer.send({
        topic,
        messages: ids.slice(i, i + 100).map((id) => ({ key: id, value: JSON.stringify({ id }) })),
      });
    }

    const seen = new Set<string>();
    let duplicates = 0;
    consumer = kafka.consumer({ groupId: uniqueName('roundtrip-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer!
        .run({
          eachMessage: async ({ message }) => {
            const { id } = JSON.parse(message.value!.toString()) as { id: string };
            if (seen.has(id)) duplicates++;
            seen.add(id);
            if (seen.size === COUNT) resolve();
          },
        })
        .catch(reject);
    });

    expect([...seen].sort()).toEqual([...ids].sort());
    expect(duplicates).toBe(0);
  });
});
