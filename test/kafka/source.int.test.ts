import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { KafkaSource, type RebalanceEvent } from '../../src/kafka/source.js';
import type { SourceRecord } from '../../src/pipeline/ports.js';
import { testKafka, uniqueName } from '../support/brokers.js';

const WAIT = { timeout: 60_000, interval: 50 };

describe('KafkaSource on the real broker', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    producer = kafka.producer({ idempotent: true });
    await Promise.all([admin.connect(), producer.connect()]);
  });
  afterAll(async () => {
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  });

  async function produce(topic: string, partition: number, from: number, count: number): Promise<void> {
    const messages = Array.from({ length: count }, (_, i) => ({
      partition,
      key: `k${from + i}`,
      value: `p${partition}-${from + i}`,
      headers: { traceparent: `tp-${from + i}` },
    }));
    await producer.send({ topic, messages });
  }

  async function committed(topic: string, groupId: string): Promise<Record<number, string>> {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries((entry?.partitions ?? []).map((p) => [p.partition, p.offset]));
  }

  function offsetsOf(records: SourceRecord[], partition: number): number[] {
    return records.filter((r) => r.partition === partition).map((r) => Number(r.offset));
  }

  /** Nothing may arrive while paused; a window is the only way to observe an absence. */
  async function quietWindow(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  }

  it('is caught up only once assigned and read to the log end, transaction markers included', async () => {
    const topic = uniqueName('source-markers');
    const groupId = uniqueName('group');
    await ensureTopics(kafka, [{ topic, partitions: 2 }]);
    // Partition 0 ends in a commit marker (its log end is one past the last record); partition 1 is empty.
    const tx = kafka.producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    const transaction = await tx.transaction();
    await transaction.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, key: `k${i}`, value: `v${i}` })) });
    await transaction.commit();
    await tx.disconnect();
    // The markers are written after EndTxn answers; the admin's (read_committed) end moves then.
    await vi.waitFor(async () => expect((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === 0)?.high).toBe('11'), WAIT);

    const source = new KafkaSource({ kafka, groupId, topics: [topic], lagRefreshMs: 0 });
    expect(source.caughtUp()).toBe(false);
    const records: SourceRecord[] = [];
    const subscription = source.records().subscribe((r) => records.push(r));
    await vi.waitFor(() => expect(records).toHaveLength(10), WAIT);
    await vi.waitFor(() => expect(source.caughtUp()).toBe(true), WAIT);
    expect(records.at(-1)?.offset).toBe('9');
    subscription.unsubscribe();
    await source.stop();
  });

  it('pauses and resumes per partition, reports lag, and commits only what it is given', async () => {
    const topic = uniqueName('source');
    const groupId = uniqueName('group');
    await ensureTopics(kafka, [{ topic, partitions: 2 }]);
    await produce(topic, 0, 0, 30);
    await produce(topic, 1, 0, 30);

    const source = new KafkaSource({ kafka, groupId, topics: [topic], pausedHeartbeatMs: 100, lagRefreshMs: 0 });
    const joins: RebalanceEvent[] = [];
    source.rebalances().subscribe((e) => joins.push(e));
    const records: SourceRecord[] = [];
    let completed = false;
    source.records().subscribe({
      next: (r) => {
        records.push(r);
        // As the pipeline does when its queue fills: pause from inside next().
        if (r.partition === 0 && r.offset === '9') source.pause(topic, 0);
      },
      complete: () => (completed = true),
    });

    // Partition 1 keeps flowing while partition 0 is paused.
    await vi.waitFor(() => expect(offsetsOf(records, 1)).toHaveLength(30), WAIT);
    expect(offsetsOf(records, 0)).toEqual([...Array(10).keys()]);
    expect(joins[0]).toMatchObject({ generation: 1, revoked: [] });
    expect(joins[0]?.assigned.map((tp) => tp.partition).sort()).toEqual([0, 1]);

    // Everything paused: new records on partition 1 are not delivered.
    source.pause(topic, 1);
    await produce(topic, 1, 30, 5);
    await quietWindow();
    expect(records).toHaveLength(40);
    await source.refreshLag();
    expect(source.lagByPartition().sort((a, b) => a.partition - b.partition)).toEqual([
      { topic, partition: 0, highWatermark: '30', position: '10', lag: 20 },
      { topic, partition: 1, highWatermark: '35', position: '30', lag: 5 },
    ]);
    expect(source.stats()).toMatchObject({ pauses: 2, resumes: 0, consumed: 40, lag: 25 });

    // Nothing was committed by the source itself.
    expect(await committed(topic, groupId)).toEqual({ 0: '-1', 1: '-1' });

    source.resume(topic, 0);
    source.resume(topic, 1);
    await vi.waitFor(() => expect(records).toHaveLength(65), WAIT);
    expect(offsetsOf(records, 0)).toEqual([...Array(30).keys()]);
    expect(offsetsOf(records, 1)).toEqual([...Array(35).keys()]);
    const first = records[0]!;
    expect(first.value?.toString()).toMatch(/^p[01]-0$/);
    expect(first.key?.toString()).toBe('k0');
    expect(Buffer.isBuffer(first.headers.traceparent)).toBe(true);
    expect(source.stats()).toMatchObject({ pauses: 2, resumes: 2, consumed: 65 });

    await source.commit([
      { topic, partition: 0, offset: '30' },
      { topic, partition: 1, offset: '12' },
    ]);
    expect(await committed(topic, groupId)).toEqual({ 0: '30', 1: '12' });
    expect(source.stats().lag).toBe(0);

    await source.stop();
    await source.stop();
    expect(completed).toBe(true);
  });

  it('parks a batch when every partition is paused and restarts a group from its committed offset', async () => {
    const topic = uniqueName('source');
    const groupId = uniqueName('group');
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    await produce(topic, 0, 0, 20);

    const source = new KafkaSource({ kafka, groupId, topics: [topic], pausedHeartbeatMs: 100, lagRefreshMs: 0 });
    const records: SourceRecord[] = [];
    source.records().subscribe((r) => {
      records.push(r);
      if (r.offset === '4') source.pause(topic, 0);
    });
    await vi.waitFor(() => expect(records).toHaveLength(5), WAIT);
    await quietWindow();
    expect(records).toHaveLength(5);
    source.resume(topic, 0);
    await vi.waitFor(() => expect(records).toHaveLength(20), WAIT);
    expect(records.map((r) => Number(r.offset))).toEqual([...Array(20).keys()]);
    await source.commit([{ topic, partition: 0, offset: '15' }]);
    await source.stop();

    // A new member of the same group resumes at the committed offset, not at what was delivered.
    const again = new KafkaSource({ kafka, groupId, topics: [topic], lagRefreshMs: 0 });
    const redelivered: SourceRecord[] = [];
    const subscription = again.records().subscribe((r) => redelivered.push(r));
    await vi.waitFor(() => expect(redelivered).toHaveLength(5), WAIT);
    expect(redelivered.map((r) => r.offset)).toEqual(['15', '16', '17', '18', '19']);
    subscription.unsubscribe(); // teardown stops the consumer
    await again.stop();
    await expect(again.commit([{ topic, partition: 0, offset: '20' }])).rejects.toMatchObject({ code: 'COMMIT_FAILED' });
  });

  it('reports a rebalance, revoking every partition held, even while parked on a paused partition', async () => {
    const topic = uniqueName('source');
    const groupId = uniqueName('group');
    await ensureTopics(kafka, [{ topic, partitions: 2 }]);
    await produce(topic, 0, 0, 10);
    await produce(topic, 1, 0, 10);

    const first = new KafkaSource({ kafka, groupId, topics: [topic], pausedHeartbeatMs: 100, lagRefreshMs: 0 });
    const firstJoins: RebalanceEvent[] = [];
    first.rebalances().subscribe((e) => firstJoins.push(e));
    const records: SourceRecord[] = [];
    first.records().subscribe((r) => {
      records.push(r);
      // Queue "full": pause everything, so the consume callback parks on this batch.
      if (records.length === 3) for (const tp of first.assigned()) first.pause(tp.topic, tp.partition);
    });
    await vi.waitFor(() => expect(records).toHaveLength(3), WAIT);

    const second = new KafkaSource({ kafka, groupId, topics: [topic], lagRefreshMs: 0 });
    const secondJoins: RebalanceEvent[] = [];
    second.rebalances().subscribe((e) => secondJoins.push(e));
    const secondRecords: SourceRecord[] = [];
    second.records().subscribe((r) => secondRecords.push(r));

    await vi.waitFor(() => expect(firstJoins).toHaveLength(2), WAIT);
    const [joined, rebalanced] = firstJoins as [RebalanceEvent, RebalanceEvent];
    expect(rebalanced.generation).toBe(2);
    expect(rebalanced.revoked).toEqual(joined.assigned);
    await vi.waitFor(() => expect(secondJoins.length).toBeGreaterThan(0), WAIT);
    const kept = first.assigned().map((tp) => tp.partition);
    const taken = secondJoins.at(-1)!.assigned.map((tp) => tp.partition);
    expect([...kept, ...taken].sort()).toEqual([0, 1]);
    expect(kept).toHaveLength(1);

    // The second member reads its partition from the start: nothing was committed.
    await vi.waitFor(() => expect(secondRecords).toHaveLength(10), WAIT);
    expect(secondRecords.map((r) => Number(r.offset))).toEqual([...Array(10).keys()]);
    for (const tp of first.assigned()) first.resume(tp.topic, tp.partition);
    await vi.waitFor(() => expect(offsetsOf(records, kept[0]!).at(-1)).toBe(9), WAIT);
    expect(first.stats().rebalances).toBe(2);
    await Promise.all([first.stop(), second.stop()]);
  });

  it('errors the stream naming a topic that does not exist', async () => {
    const topic = uniqueName('missing');
    const source = new KafkaSource({ kafka, groupId: uniqueName('group'), topics: [topic] });
    const error = await new Promise<unknown>((resolve) => source.records().subscribe({ error: resolve }));
    expect(error).toMatchObject({ code: 'CONSUME_FAILED', message: `cannot consume '${topic}': no such topic` });
  });

  it('errors the stream with a one-line error when no broker answers', async () => {
    const { createKafka } = await import('../../src/kafka/client.js');
    const dead = createKafka({ brokers: ['127.0.0.1:1'], retry: { retries: 0 }, connectionTimeoutMs: 500, logLevel: 'nothing' });
    const source = new KafkaSource({ kafka: dead, groupId: uniqueName('group'), topics: ['nowhere'] });
    const error = await new Promise<unknown>((resolve) => source.records().subscribe({ error: resolve }));
    expect(error).toMatchObject({ code: 'BROKER_UNREACHABLE' });
  });
});
