import type { Kafka } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
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

/** A consumer fake at the kafkajs interface that records its event handlers, so a test can fire a group join. */
function joinableKafka() {
  const handlers = new Map<string, (e: { payload: unknown }) => void>();
  const consumer = {
    events: { GROUP_JOIN: 'consumer.group_join', END_BATCH_PROCESS: 'consumer.end_batch_process', CRASH: 'consumer.crash' },
    on: (name: string, handler: (e: { payload: unknown }) => void) => void handlers.set(name, handler),
    connect: async () => {},
    subscribe: async () => {},
    run: async () => {},
    disconnect: async () => {},
  };
  const join = (memberAssignment: Record<string, number[]>, duration: number) => handlers.get('consumer.group_join')!({ payload: { memberAssignment, duration } });
  return { kafka: { consumer: () => consumer, admin: () => ({ connect: async () => {}, disconnect: async () => {} }) } as unknown as Kafka, join, joined: () => handlers.has('consumer.group_join') };
}

describe('KafkaSource events', () => {
  it('logs each group join with its generation, its duration and the partitions it assigned', async () => {
    const { kafka, join, joined } = joinableKafka();
    const events: Record<string, unknown>[] = [];
    const source = new KafkaSource({ kafka, groupId: 'g', topics: ['in'], lagRefreshMs: 0, onEvent: (e) => events.push(e) });
    const sub = source.records().subscribe();
    await vi.waitFor(() => expect(joined()).toBe(true));
    join({ in: [0, 2] }, 3120);
    join({ in: [1] }, 45);
    expect(events).toEqual([
      { event: 'group-joined', generation: 1, joinMs: 3120, partitions: { in: [0, 2] } },
      { event: 'group-joined', generation: 2, joinMs: 45, partitions: { in: [1] } },
    ]);
    expect(source.assigned()).toEqual([{ topic: 'in', partition: 1 }]);
    sub.unsubscribe();
    await source.stop();
  });
});
