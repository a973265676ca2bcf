import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { createKafka } from '../../src/kafka/client.js';
import { KafkaSink } from '../../src/kafka/sink.js';
import type { OutRecord } from '../../src/pipeline/ports.js';
import { readMessages } from '../pipeline/int-support.js';
import { testKafka, uniqueName } from '../support/brokers.js';

describe('KafkaSink on the real broker', () => {
  let kafka: Kafka;
  let admin: Admin;

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(() => admin.disconnect());

  async function endOffsets(topic: string): Promise<number> {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  }

  it('resolves a send after the broker acknowledged every record, across topics', async () => {
    const [a, b] = [uniqueName('sink-a'), uniqueName('sink-b')];
    await ensureTopics(kafka, [
      { topic: a, partitions: 2 },
      { topic: b, partitions: 1 },
    ]);
    const sink = new KafkaSink({ kafka });
    await sink.send([
      { topic: a, key: 's1', value: Buffer.from('one'), headers: { traceparent: 'tp1', 'teacherlm-offset': Buffer.from('7') } },
      { topic: b, key: null, value: Buffer.from('two'), headers: {} },
      { topic: a, key: Buffer.from('s3'), value: Buffer.from('three'), headers: {} },
    ]);
    // Acknowledged means already in the log: no wait, no poll.
    expect(await endOffsets(a)).toBe(2);
    expect(await endOffsets(b)).toBe(1);
    const read = await readMessages(kafka, a, 2);
    const one = read.find((m) => m.key?.toString() === 's1')!;
    expect(one.value?.toString()).toBe('one');
    expect(one.headers?.traceparent?.toString()).toBe('tp1');
    expect(one.headers?.['teacherlm-offset']?.toString()).toBe('7');
    await sink.close();
    await sink.close();
    expect(sink.stats()).toMatchObject({ sends: 1, records: 3, failed: 0 });
  });

  it('gathers concurrent sends into fewer requests and writes each record exactly once', async () => {
    const topic = uniqueName('sink-many');
    await ensureTopics(kafka, [{ topic, partitions: 3 }]);
    const sink = new KafkaSink({ kafka });
    await sink.connect();
    const sends = Array.from({ length: 50 }, (_, s) =>
      sink.send(
        Array.from({ length: 20 }, (_, i): OutRecord => ({ topic, key: `k${s}-${i}`, value: Buffer.from(`${s}-${i}`), headers: {} })),
      ),
    );
    await Promise.all(sends);
    await sink.flush();
    expect(await endOffsets(topic)).toBe(1000);
    const stats = sink.stats();
    expect(stats).toMatchObject({ sends: 50, records: 1000, failed: 0 });
    expect(stats.batches).toBeLessThan(50);
    const values = (await readMessages(kafka, topic, 1000)).map((m) => m.value?.toString());
    expect(new Set(values).size).toBe(1000);
    await sink.close();
  });

  it('gathers no more than the broker accepts in one request (max.message.bytes)', async () => {
    const topic = uniqueName('sink-big');
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    const sink = new KafkaSink({ kafka });
    await sink.connect();
    const value = Buffer.alloc(4_000, 'v');
    // 40 sends of 50 records (200 kB each, 8 MB in all), all issued at once.
    const sends = Array.from({ length: 40 }, (_, s) =>
      sink.send(Array.from({ length: 50 }, (_, i): OutRecord => ({ topic, key: `${s}-${i}`, value, headers: {} }))),
    );
    await Promise.all(sends);
    expect(await endOffsets(topic)).toBe(2000);
    expect(sink.stats().batches).toBeGreaterThanOrEqual(8);
    await sink.close();
  });

  it("splits one send larger than the topic's max.message.bytes into requests that fit, and reports the record limit", async () => {
    const [topic, other] = [uniqueName('sink-cap'), uniqueName('sink-cap-default')];
    await ensureTopics(kafka, [
      { topic, partitions: 1, configs: { 'max.message.bytes': '20000' } },
      { topic: other, partitions: 1 },
    ]);
    const sink = new KafkaSink({ kafka, topics: [topic, other] });
    await sink.connect();
    expect(sink.maxRecordBytes(topic)).toBeLessThan(20_000);
    expect(sink.maxRecordBytes(topic)).toBeGreaterThan(19_000);
    expect(sink.maxRecordBytes(other)).toBeGreaterThan(1_000_000);
    // One send of 256 records of 1 kB, all for one partition: 13x the topic's limit.
    const value = Buffer.alloc(1_000, 'q');
    await sink.send(Array.from({ length: 256 }, (_, i): OutRecord => ({ topic, key: `k${i}`, value, headers: { traceparent: 'x' } })));
    expect(await endOffsets(topic)).toBe(256);
    expect(sink.stats().batches).toBeGreaterThanOrEqual(13);
    await sink.close();
  });

  it('caps requests at a configured maxMessageBytes below the topic limit', async () => {
    const topic = uniqueName('sink-own-cap');
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    const sink = new KafkaSink({ kafka, topics: [topic], maxMessageBytes: 10_000 });
    expect(sink.maxRecordBytes(topic)).toBeLessThan(10_000);
    await sink.send(Array.from({ length: 100 }, (_, i): OutRecord => ({ topic, key: `k${i}`, value: Buffer.alloc(1_000), headers: {} })));
    expect(sink.stats().batches).toBeGreaterThanOrEqual(10);
    expect(await endOffsets(topic)).toBe(100);
    await sink.close();
  });

  it('rejects with PRODUCE_FAILED, not retriable, for a topic that does not exist', async () => {
    const sink = new KafkaSink({ kafka, retries: 1 });
    const error = await sink.send([{ topic: uniqueName('missing'), key: null, value: Buffer.from('x'), headers: {} }]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PRODUCE_FAILED', retriable: false });
    expect((error as Error).message).toContain('missing-');
    expect(sink.stats()).toMatchObject({ failed: 1, records: 0 });
    await sink.close();
    await expect(sink.send([{ topic: 't', key: null, value: Buffer.from('x'), headers: {} }])).rejects.toMatchObject({
      code: 'PRODUCE_FAILED',
      retriable: false,
    });
  });

  it('rejects with a retriable PRODUCE_FAILED when no broker answers', async () => {
    const dead = createKafka({ brokers: ['127.0.0.1:1'], retry: { retries: 0 }, connectionTimeoutMs: 300, logLevel: 'nothing' });
    const sink = new KafkaSink({ kafka: dead, retries: 1 });
    await expect(sink.send([{ topic: 't', key: null, value: Buffer.from('x'), headers: {} }])).rejects.toMatchObject({
      code: 'PRODUCE_FAILED',
      retriable: true,
    });
    await sink.close();
  });
});
