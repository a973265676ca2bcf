import { afterAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { ensureTopics } from '../../src/kafka/admin.js';
import { StableOffsets } from '../../src/kafka/stable-offsets.js';
import { fastDefaultPartitioner } from '../../src/kafka/partitioner.js';
import { testKafka, uniqueName } from '../support/brokers.js';

describe('stable committed offsets (OffsetFetch v7, require_stable) on the real broker', () => {
  const kafka = testKafka();
  const admin = kafka.admin();
  const producers: Producer[] = [];
  const readers: StableOffsets[] = [];

  afterAll(async () => {
    for (const p of producers) await p.disconnect();
    for (const r of readers) await r.close();
    await admin.disconnect();
  });

  it("reports a pending transaction's offset only once it is committed, where kafkajs's OffsetFetch v4 reads the old one", async () => {
    const topic = uniqueName('stable');
    const groupId = uniqueName('stable-group');
    await ensureTopics(kafka, [{ topic, partitions: 2 }]);
    await admin.connect();
    const producer = kafka.producer({ transactionalId: uniqueName('stable-tx'), idempotent: true, maxInFlightRequests: 1, createPartitioner: fastDefaultPartitioner });
    producers.push(producer);
    await producer.connect();

    const waiting = new StableOffsets({ kafka, groupId, timeoutMs: 1_000 });
    readers.push(waiting);
    expect(await waiting.fetch([{ topic, partition: 0 }])).toEqual([{ topic, partition: 0, offset: '-1' }]);

    const tx = await producer.transaction();
    await tx.send({ topic, messages: [{ key: 'k', value: 'v' }] });
    await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: '42' }] }] });

    // Pending: the unstable read is the stale one.
    const [v4] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(v4!.partitions.find((p) => p.partition === 0)!.offset).toBe('-1');
    await expect(waiting.fetch([{ topic, partition: 0 }])).rejects.toMatchObject({ code: 'OFFSETS_UNAVAILABLE', retriable: true, message: expect.stringMatching(/UNSTABLE_OFFSET_COMMIT/) });
    // A partition without pending offsets answers at once.
    expect(await waiting.fetch([{ topic, partition: 1 }])).toEqual([{ topic, partition: 1, offset: '-1' }]);

    // A read started while pending waits for the commit, and never answers the old offset.
    const patient = new StableOffsets({ kafka, groupId });
    readers.push(patient);
    let answered = false;
    const reading = patient.fetch([{ topic, partition: 0 }]).finally(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered).toBe(false);
    await tx.commit();
    expect(await reading).toEqual([{ topic, partition: 0, offset: '42' }]);
  });

  it('reads what a transaction committed right after it fenced that transaction\'s producer', async () => {
    const topic = uniqueName('stable-fence');
    const groupId = uniqueName('stable-fence-group');
    const transactionalId = uniqueName('stable-fence-tx');
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    const reader = new StableOffsets({ kafka, groupId });
    readers.push(reader);
    for (let round = 1; round <= 5; round++) {
      const old = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, createPartitioner: fastDefaultPartitioner });
      producers.push(old);
      await old.connect();
      const tx = await old.transaction();
      await tx.send({ topic, messages: [{ value: String(round) }] });
      await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: String(round * 10) }] }] });
      await tx.commit();
      // The next owner fences, then reads at once: the last commit must be in.
      const next = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, createPartitioner: fastDefaultPartitioner });
      producers.push(next);
      await next.connect();
      expect(await reader.fetch([{ topic, partition: 0 }])).toEqual([{ topic, partition: 0, offset: String(round * 10) }]);
    }
  });
});
