import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Admin, Kafka } from 'kafkajs';
import { ensureTopics, refused, validateTopicSpecs } from '../../src/kafka/admin.js';
import { isTeacherlmError, TeacherlmError } from '../../src/errors.js';

function invalidMessage(specs: unknown[]): string {
  try {
    validateTopicSpecs(specs);
  } catch (err) {
    expect(isTeacherlmError(err, 'INVALID_OPTIONS')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected validation to fail');
}

describe('validateTopicSpecs', () => {
  it('defaults the replication factor to 1 and copies configs', () => {
    const configs = { 'cleanup.policy': 'compact' };
    const [spec] = validateTopicSpecs([{ topic: 'samples.raw', partitions: 6, configs }]);
    expect(spec).toEqual({ topic: 'samples.raw', partitions: 6, replicationFactor: 1, configs });
    expect(spec!.configs).not.toBe(configs);
  });

  it('names the bad field', () => {
    expect(invalidMessage([{ topic: 'ok', partitions: 1 }, { topic: 'b', partitions: 0 }])).toMatch(/^topics\[1\]\.partitions: expected a positive integer, got 0/);
    expect(invalidMessage([{ topic: 'a', partitions: 1.5 }])).toMatch(/topics\[0\]\.partitions/);
    expect(invalidMessage([{ topic: 'has space', partitions: 1 }])).toMatch(/topics\[0\]\.topic: expected 1-249 characters/);
    expect(invalidMessage([{ topic: '', partitions: 1 }])).toMatch(/topics\[0\]\.topic/);
    expect(invalidMessage([{ topic: 'x'.repeat(250), partitions: 1 }])).toMatch(/topics\[0\]\.topic/);
    expect(invalidMessage([{ topic: 'a', partitions: 1, replicationFactor: 0 }])).toMatch(/topics\[0\]\.replicationFactor/);
    expect(invalidMessage([{ topic: 'a', partitions: 1, configs: { 'retention.ms': 5 } }])).toMatch(/topics\[0\]\.configs\.retention\.ms: expected a string, got 5/);
    expect(invalidMessage([{ topic: 'a', partitions: 1 }, { topic: 'a', partitions: 2 }])).toMatch(/topics\[1\]\.topic: expected a topic not declared before, got "a"/);
    expect(invalidMessage([null])).toMatch(/topics\[0\]: expected an object, got null/);
  });
});

/** An Admin fake at the kafkajs interface: topics with partition counts, and a refusal list. */
function fakeAdmin(initial: Record<string, number>, refuse: Record<string, string> = {}) {
  const topics = new Map(Object.entries(initial));
  const calls: string[] = [];
  const admin = {
    listTopics: async () => [...topics.keys()],
    createTopics: async ({ topics: wanted }: { topics: { topic: string; numPartitions: number }[] }) => {
      calls.push(`create ${wanted.map((t) => t.topic).join(',')}`);
      const errors = wanted.filter((t) => refuse[t.topic]).map((t) => Object.assign(new Error(refuse[t.topic]), { topic: t.topic, type: 'INVALID_REPLICATION_FACTOR' }));
      if (errors.length > 0) throw Object.assign(new Error('Topic creation errors'), { errors });
      for (const t of wanted) topics.set(t.topic, t.numPartitions);
      return true;
    },
    createPartitions: async ({ topicPartitions }: { topicPartitions: { topic: string; count: number }[] }) => {
      for (const { topic, count } of topicPartitions) {
        calls.push(`grow ${topic} ${count}`);
        topics.set(topic, count);
      }
    },
    fetchTopicOffsets: async (name: string) => Array.from({ length: topics.get(name) ?? 0 }, (_, partition) => ({ partition, offset: '0', high: '0', low: '0' })),
    fetchTopicMetadata: async ({ topics: names }: { topics: string[] }) => ({
      topics: names.map((name) => ({
        name,
        partitions: Array.from({ length: topics.get(name) ?? 0 }, (_, i) => ({ partitionId: i, partitionErrorCode: 0, leader: 1 })),
      })),
    }),
  };
  return { admin: admin as unknown as Admin, calls, topics };
}

describe('ensureTopics', () => {
  it('creates only the missing topics and reports the rest as existing', async () => {
    const { admin, calls } = fakeAdmin({ a: 3, big: 12 });
    const res = await ensureTopics(admin, [
      { topic: 'a', partitions: 3 },
      { topic: 'b', partitions: 2 },
      { topic: 'big', partitions: 4 },
    ]);
    expect(res).toEqual({ created: ['b'], existing: ['a', 'big'], grown: [] });
    expect(calls).toEqual(['create b']);
  });

  it('refuses fewer partitions than declared unless growPartitions is set', async () => {
    const { admin, calls } = fakeAdmin({ a: 1 });
    const err = await ensureTopics(admin, [{ topic: 'a', partitions: 4 }]).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'ADMIN_REFUSED')).toBe(true);
    expect((err as TeacherlmError).message).toBe("topic 'a' has 1 partitions, fewer than the 4 declared");
    expect(calls).toEqual([]);

    expect(await ensureTopics(admin, [{ topic: 'a', partitions: 4 }], { growPartitions: true })).toEqual({ created: [], existing: [], grown: ['a'] });
    expect(calls).toEqual(['grow a 4']);
  });

  it('turns a refusal into ADMIN_REFUSED naming the refused topic', async () => {
    const { admin } = fakeAdmin({}, { bad: 'Unable to replicate the partition 3 time(s)' });
    const err = await ensureTopics(admin, [{ topic: 'good', partitions: 1 }, { topic: 'bad', partitions: 1, replicationFactor: 3 }]).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'ADMIN_REFUSED')).toBe(true);
    expect((err as Error).message).toBe("the broker refused topic 'bad': Unable to replicate the partition 3 time(s) (INVALID_REPLICATION_FACTOR)");
    expect((err as TeacherlmError).hint).toMatch(/replicationFactor/);
  });

  it('reports an unreachable broker as BROKER_UNREACHABLE', async () => {
    const admin = { listTopics: async () => Promise.reject(new Error('Connection error: ECONNREFUSED')) } as unknown as Admin;
    const err = await ensureTopics(admin, [{ topic: 'a', partitions: 1 }]).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'BROKER_UNREACHABLE')).toBe(true);
    expect((err as TeacherlmError).retriable).toBe(true);
  });

  it('reports a Kafka client whose admin cannot connect as BROKER_UNREACHABLE', async () => {
    const kafka = { admin: () => ({ connect: async () => Promise.reject(new Error('Connection error: ECONNREFUSED')) }) } as unknown as Kafka;
    const err = await ensureTopics(kafka, [{ topic: 'a', partitions: 1 }]).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'BROKER_UNREACHABLE')).toBe(true);
    expect((err as Error).message).toBe('could not connect the admin client: Connection error: ECONNREFUSED');
  });
});

/**
 * An admin whose metadata lags behind CreateTopics, as on a just-started broker: the first
 * `unknownReads` metadata requests fail with `type`, the next `leaderlessReads` show the
 * partitions without a leader.
 */
function laggingAdmin(unknownReads: number, { type = 'UNKNOWN_TOPIC_OR_PARTITION', leaderlessReads = 0, unservedReads = 0, existing = [] as string[] } = {}) {
  const created = new Set<string>(existing);
  let reads = 0;
  let offsetReads = 0;
  const admin = {
    listTopics: async () => [...created],
    createTopics: async ({ topics, waitForLeaders }: { topics: { topic: string }[]; waitForLeaders?: boolean }) => {
      for (const t of topics) created.add(t.topic);
      // As kafkajs 2.2.4: its leader wait reads metadata once more and bails on anything
      // but LEADER_NOT_AVAILABLE, so a lagging UNKNOWN_TOPIC_OR_PARTITION fails the call.
      if (waitForLeaders !== false) await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      return true;
    },
    // ListOffsets: a leader named in the metadata may not serve the partition yet.
    fetchTopicOffsets: async () => {
      if (++offsetReads <= unservedReads) {
        throw Object.assign(new Error('[retrier] gave up'), { cause: Object.assign(new Error('not the leader'), { type: 'NOT_LEADER_OR_FOLLOWER' }) });
      }
      return [0, 1].map((partition) => ({ partition, offset: '0', high: '0', low: '0' }));
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      reads++;
      if (reads <= unknownReads) throw Object.assign(new Error('This server does not host this topic-partition'), { type });
      const leader = reads <= unknownReads + leaderlessReads ? -1 : 1;
      return { topics: topics.map((name) => ({ name, partitions: [0, 1].map((partitionId) => ({ partitionId, partitionErrorCode: 0, leader })) })) };
    },
  };
  return { admin: admin as unknown as Admin, reads: () => reads, offsetReads: () => offsetReads };
}

describe('ensureTopics on a broker whose metadata lags', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Runs ensureTopics in virtual time: every backoff wait elapses at once. */
  async function inVirtualTime<T>(run: () => Promise<T>): Promise<T> {
    vi.useFakeTimers();
    const settled = run().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    await vi.runAllTimersAsync();
    const outcome = await settled;
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }

  it('waits while a new topic is missing from the metadata', async () => {
    const { admin, reads } = laggingAdmin(2);
    await expect(inVirtualTime(() => ensureTopics(admin, [{ topic: 't', partitions: 2 }]))).resolves.toEqual({ created: ['t'], existing: [], grown: [] });
    expect(reads()).toBe(3);
  });

  it('waits until every partition of a new topic has a leader', async () => {
    const { admin, reads } = laggingAdmin(1, { leaderlessReads: 2 });
    await expect(inVirtualTime(() => ensureTopics(admin, [{ topic: 't', partitions: 2 }]))).resolves.toEqual({ created: ['t'], existing: [], grown: [] });
    expect(reads()).toBe(4);
  });

  it('waits until the leader of a new topic serves it, not only names it', async () => {
    const { admin, reads, offsetReads } = laggingAdmin(0, { unservedReads: 2 });
    await expect(inVirtualTime(() => ensureTopics(admin, [{ topic: 't', partitions: 2 }]))).resolves.toEqual({ created: ['t'], existing: [], grown: [] });
    expect(offsetReads()).toBe(3);
    expect(reads()).toBe(3);
  });

  it('does not wait for leaders of a topic that already existed', async () => {
    const { admin, reads } = laggingAdmin(0, { leaderlessReads: 100, existing: ['t'] });
    await expect(ensureTopics(admin, [{ topic: 't', partitions: 2 }])).resolves.toEqual({ created: [], existing: ['t'], grown: [] });
    expect(reads()).toBe(1);
  });

  it('gives up after readyTimeoutMs with ADMIN_REFUSED naming the topic', async () => {
    const { admin, reads } = laggingAdmin(Number.POSITIVE_INFINITY);
    const err = await inVirtualTime(() => ensureTopics(admin, [{ topic: 't', partitions: 2 }], { readyTimeoutMs: 5_000 })).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'ADMIN_REFUSED')).toBe(true);
    expect((err as TeacherlmError).message).toBe(
      "topic 't' not ready in the broker's metadata after 5000 ms: This server does not host this topic-partition (UNKNOWN_TOPIC_OR_PARTITION)",
    );
    expect((err as TeacherlmError).retriable).toBe(true);
    // Waits of 100, 200, 400, 800, 1000, 1000, 1000 ms (4.5 s) fit in 5 s, one more would not.
    expect(reads()).toBe(8);
  });

  it('names only the topics the broker does not know when it gives up', async () => {
    const known = new Set(['a']);
    const admin = {
      listTopics: async () => [...known],
      createTopics: async () => true,
      fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
        if (topics.some((t) => !known.has(t))) throw Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
        return { topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, partitionErrorCode: 0, leader: 1 }] })) };
      },
    } as unknown as Admin;
    const specs = ['a', 'b', 'c'].map((topic) => ({ topic, partitions: 1 }));
    const err = await inVirtualTime(() => ensureTopics(admin, specs, { readyTimeoutMs: 1_000 })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^topic 'b', 'c' not ready in the broker's metadata after 1000 ms/);
  });

  it('does not retry other refusals', async () => {
    const other = laggingAdmin(1, { type: 'INVALID_REPLICATION_FACTOR' });
    await expect(ensureTopics(other.admin, [{ topic: 't', partitions: 2 }])).rejects.toMatchObject({ code: 'ADMIN_REFUSED' });
    expect(other.reads()).toBe(1);
  });
});

describe('refused', () => {
  it('names all given topics when the error does not say which', () => {
    expect(refused(new Error('Request timed out'), ['x', 'y']).message).toBe("the broker refused topic 'x, y': Request timed out");
  });
});
