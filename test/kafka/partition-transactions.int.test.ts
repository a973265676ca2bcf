/**
 * The fence on the real broker: once a new owner's assign() has resolved, the previous
 * owner of the partition cannot commit any more, so the offsets the new owner reads next
 * cannot move under it. (kafkajs's connect() alone fences nothing: it takes a plain
 * idempotent producer id, and the transactional one came only with the first commit, after
 * the new owner had already read a committed offset the old owner then moved.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { PartitionTransactions } from '../../src/kafka/partition-transactions.js';
import { StableOffsets } from '../../src/kafka/stable-offsets.js';
import type { OutRecord } from '../../src/pipeline/ports.js';
import { kafkaBrokers, testKafka, uniqueName } from '../support/brokers.js';
import { kcatKeys } from '../chaos/support/count.js';

const out = (topic: string, key: string): OutRecord => ({ topic, key, value: Buffer.from(key), headers: {} });

describe('PartitionTransactions on the real broker', () => {
  const kafka = testKafka();
  const open: PartitionTransactions[] = [];
  afterAll(async () => {
    await Promise.allSettled(open.map((t) => t.close()));
  });

  it("fences the previous owner when assign resolves, before any commit of the new owner's", async () => {
    const input = uniqueName('fence-in');
    const output = uniqueName('fence-out');
    const groupId = uniqueName('fence-g');
    await ensureTopics(kafka, [
      { topic: input, partitions: 1 },
      { topic: output, partitions: 1 },
    ]);
    const previous = new PartitionTransactions({ kafka, groupId, maxAttempts: 2, initialBackoffMs: 10 });
    const next = new PartitionTransactions({ kafka, groupId, maxAttempts: 2, initialBackoffMs: 10 });
    open.push(previous, next);

    await previous.assign(input, 0);
    await previous.commit(input, 0, [out(output, 'first')], '1');
    await next.assign(input, 0);

    // The previous owner, still running (it has not seen the rebalance yet), tries to commit the next range.
    await expect(previous.commit(input, 0, [out(output, 'stale')], '2')).rejects.toMatchObject({ code: 'TRANSACTION_FAILED', retriable: false, message: expect.stringMatching(/fenced/) });
    const offsets = new StableOffsets({ kafka, groupId });
    try {
      expect(await offsets.fetch([{ topic: input, partition: 0 }])).toEqual([{ topic: input, partition: 0, offset: '1' }]);
      await next.commit(input, 0, [out(output, 'redone')], '2');
      expect(await offsets.fetch([{ topic: input, partition: 0 }])).toEqual([{ topic: input, partition: 0, offset: '2' }]);
    } finally {
      await offsets.close();
    }
    // An outside reader, read_committed: the fenced owner's record never became visible.
    expect((await kcatKeys(kafkaBrokers()[0]!, output)).map((r) => r.id)).toEqual(['first', 'redone']);
  });
});
