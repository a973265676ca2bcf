import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ensureTopicsReady } from '../../src/kafka/ensure-topics-ready.js';

/** An admin whose metadata lags behind CreateTopics for the first `lagging` reads. */
function laggingAdmin(lagging: number, type = 'UNKNOWN_TOPIC_OR_PARTITION') {
  const created = new Set<string>();
  let reads = 0;
  const admin = {
    listTopics: async () => [...created],
    createTopics: async ({ topics }: { topics: { topic: string }[] }) => {
      for (const t of topics) created.add(t.topic);
      return true;
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      if (++reads <= lagging) throw Object.assign(new Error('This server does not host this topic-partition'), { type });
      return { topics: topics.map((name) => ({ name, partitions: [{}, {}] })) };
    },
  };
  return { admin: admin as unknown as Admin, reads: () => reads };
}

describe('ensureTopicsReady', () => {
  const noWait = { delay: async () => {} };

  it('retries while a new topic is missing from the metadata', async () => {
    const { admin, reads } = laggingAdmin(2);
    await expect(ensureTopicsReady(admin, [{ topic: 't', partitions: 2 }], noWait)).resolves.toEqual({ created: [], existing: ['t'], grown: [] });
    expect(reads()).toBe(3);
  });

  it('gives up after the attempts, and does not retry other refusals', async () => {
    await expect(ensureTopicsReady(laggingAdmin(5).admin, [{ topic: 't', partitions: 2 }], { ...noWait, attempts: 3 })).rejects.toMatchObject({
      code: 'ADMIN_REFUSED',
    });
    const other = laggingAdmin(1, 'INVALID_REPLICATION_FACTOR');
    await expect(ensureTopicsReady(other.admin, [{ topic: 't', partitions: 2 }], noWait)).rejects.toMatchObject({ code: 'ADMIN_REFUSED' });
    expect(other.reads()).toBe(1);
  });
});
