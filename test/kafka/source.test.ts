import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isTeacherlmError } from '../../src/errors.js';
import { KafkaSource } from '../../src/kafka/source.js';

/** A Kafka client fake at the kafkajs interface whose admin fails its first `failures` connects. */
function flakyAdminKafka(failures: number, offsetsAnswer: () => Promise<void> = async () => {}) {
  let connects = 0;
  let offsetRequests = 0;
  const admin = {
    connect: async () => {
      if (connects++ < failures) throw new Error('Connection error: ECONNREFUSED');
    },
    disconnect: async () => {},
    fetchTopicOffsets: async () => {
      offsetRequests++;
      await offsetsAnswer();
      return [{ partition: 0, offset: '10', high: '10', low: '0' }];
    },
    fetchOffsets: async () => [{ topic: 'in', partitions: [{ partition: 0, offset: '4' }] }],
  };
  return { kafka: { consumer: () => ({}), admin: () => admin } as unknown as Kafka, connects: () => connects, offsetRequests: () => offsetRequests };
}

describe('KafkaSource.refreshLag', () => {
  it('reports an admin that cannot connect as BROKER_UNREACHABLE and connects again on the next refresh', async () => {
    const { kafka, connects } = flakyAdminKafka(1);
    const source = new KafkaSource({ kafka, groupId: 'g', topics: ['in'], lagRefreshMs: 0 });
    const err = await source.refreshLag().catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'BROKER_UNREACHABLE')).toBe(true);
    expect((err as Error).message).toBe('could not connect the admin client: Connection error: ECONNREFUSED');
    await source.refreshLag();
    expect(connects()).toBe(2);
    await source.stop();
  });

  it('shares a refresh in flight instead of stacking admin requests behind a slow broker', async () => {
    let answer!: () => void;
    const slow = new Promise<void>((resolve) => (answer = resolve));
    const { kafka, offsetRequests } = flakyAdminKafka(0, () => slow);
    const source = new KafkaSource({ kafka, groupId: 'g', topics: ['in'], lagRefreshMs: 0 });
    const first = source.refreshLag();
    const second = source.refreshLag();
    expect(second).toBe(first);
    answer();
    await first;
    await source.refreshLag();
    expect(offsetRequests()).toBe(2);
    await source.stop();
  });
});
