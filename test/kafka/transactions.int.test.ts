import { afterAll, describe, expect, it } from 'vitest';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { ensureTopics } from '../../src/kafka/admin.js';
import { testKafka, uniqueName } from '../support/brokers.js';

/** Reads the topic from the beginning until `last` arrives; returns every value seen, in order. */
async function readUntil(kafka: Kafka, topic: string, last: string, readUncommitted: boolean, consumers: Consumer[]): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('tx-reader'), readUncommitted });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: string[] = [];
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          const value = message.value!.toString();
          values.push(value);
          if (value === last) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return values;
}

describe('transactions on the real broker', () => {
  const kafka = testKafka();
  const consumers: Consumer[] = [];
  let producer: Producer | undefined;

  afterAll(async () => {
    for (const c of consumers) await c.disconnect();
    await producer?.disconnect();
  });

  it('shows a read_committed consumer the committed transaction and not the aborted one', async () => {
    const topic = uniqueName('tx');
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    producer = kafka.producer({ transactionalId: uniqueName('tx-producer'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();

    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ key: 'a', value: 'committed-1' }, { key: 'b', value: 'committed-2' }] });
    await committed.commit();

    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ key: 'c', value: 'aborted-1' }] });
    await aborted.abort();

    // A last committed record: once a reader sees it, it has read past the aborted one.
    const end = await producer.transaction();
    await end.send({ topic, messages: [{ key: 'z', value: 'end' }] });
    await end.commit();

    expect(await readUntil(kafka, topic, 'end', false, consumers)).toEqual(['committed-1', 'committed-2', 'end']);
    // The aborted record really is in the log: a read_uncommitted consumer gets it.
    expect(await readUntil(kafka, topic, 'end', true, consumers)).toEqual(['committed-1', 'committed-2', 'aborted-1', 'end']);
  });
});
