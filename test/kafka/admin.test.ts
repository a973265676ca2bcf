import { describe, expect, it } from 'vitest';
import type { Admin } from 'kafkajs';
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
    expect(invalidMessage([{ topic: 'ok', partitions: 1 }, { topic: 'b', partitions: 0 }])).toMatch(/^topics\[1\]\.partitions must be a positive integer, got 0/);
    expect(invalidMessage([{ topic: 'a', partitions: 1.5 }])).toMatch(/topics\[0\]\.partitions/);
    expect(invalidMessage([{ topic: 'has space', partitions: 1 }])).toMatch(/topics\[0\]\.topic must be 1-249 characters/);
    expect(invalidMessage([{ topic: '', partitions: 1 }])).toMatch(/topics\[0\]\.topic/);
    expect(invalidMessage([{ topic: 'x'.repeat(250), partitions: 1 }])).toMatch(/topics\[0\]\.topic/);
    expect(invalidMessage([{ topic: 'a', partitions: 1, replicationFactor: 0 }])).toMatch(/topics\[0\]\.replicationFactor/);
    expect(invalidMessage([{ topic: 'a', partitions: 1, configs: { 'retention.ms': 5 } }])).toMatch(/topics\[0\]\.configs\.retention\.ms must be a string/);
    expect(invalidMessage([{ topic: 'a', partitions: 1 }, { topic: 'a', partitions: 2 }])).toMatch(/topics\[1\]\.topic 'a' is declared twice/);
    expect(invalidMessage([null])).toMatch(/topics\[0\] must be an object/);
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
    fetchTopicMetadata: async ({ topics: names }: { topics: string[] }) => ({
      topics: names.map((name) => ({ name, partitions: Array.from({ length: topics.get(name) ?? 0 }, (_, i) => ({ partitionId: i })) })),
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
});

describe('refused', () => {
  it('names all given topics when the error does not say which', () => {
    expect(refused(new Error('Request timed out'), ['x', 'y']).message).toBe("the broker refused topic 'x, y': Request timed out");
  });
});
