/**
 * The feed reads what `tail` reads: records in the Confluent wire format (writer schema
 * loaded from the run's registry while the partitions wait), single-object records, and
 * a record that is neither, which the manifest keeps as skipped with its reason.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { ConfluentCodec, valueSubject } from '../../src/records/confluent-codec.js';
import { OutputReader } from '../../src/records/output-reader.js';
import type { AugmentedSample } from '../../src/records/types.js';
import { createRegistryClient } from '../../src/registry/client.js';
import { startStudentFeed } from '../../src/student-feed/feed.js';
import type { Manifest } from '../../src/student-feed/manifest.js';
import { augmentedRecord } from '../support/augmented-records.js';
import { testKafka, uniqueName } from '../support/brokers.js';
import { registryUrl } from '../support/registry.js';

describe('teacherlm student-feed on Confluent-format records', () => {
  it('writes Confluent and single-object records alike, and keeps an undecodable one as skipped', async () => {
    const kafka = testKafka();
    const topic = uniqueName('augmented');
    const dir = mkdtempSync(join(tmpdir(), 'student-feed-confluent-'));
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    const registry = createRegistryClient(registryUrl());
    const codecs = recordCodecs();
    const confluent = await ConfluentCodec.register<AugmentedSample>(registry, valueSubject(topic), codecs.augmentedSample.type);
    const messages = Array.from({ length: 30 }, (_, i) => {
      const value = augmentedRecord(`s-${i}`, i);
      return { key: `s-${i}`, value: i % 3 === 0 ? value : confluent.encode(codecs.augmentedSample.decode(value)) };
    });
    messages.push({ key: 'bad', value: Buffer.from('not a record') });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, messages });
    await producer.disconnect();

    const feed = await startStudentFeed({
      kafka,
      topic,
      groupId: uniqueName('feed'),
      dir,
      kinds: ['cot'],
      shardSequences: 8,
      shardMs: 60_000,
      untilIdleMs: 2_000,
      sessionTimeoutMs: 10_000,
      log: () => {},
      reader: new OutputReader(registry),
    });
    const summary = await feed.done;
    expect(summary).toMatchObject({ reason: 'idle', records: 31, sequences: 30, skipped: 1, alreadyWritten: 0 });

    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.next).toEqual({ 0: 31 });
    expect(manifest.shards.flatMap((s) => s.skipped)).toEqual([{ partition: 0, offset: 30, error: expect.stringContaining('not an Avro single-object encoded record') }]);
    const ids = manifest.shards.flatMap((s) => readFileSync(join(dir, s.file), 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id));
    expect(ids).toEqual(messages.slice(0, 30).map((m) => m.key)); // in offset order, each once
  });
});
