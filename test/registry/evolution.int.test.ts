/**
 * Schema evolution and durability on the real registry: a v2 writer that adds a field
 * with a default is accepted and read by a v1 reader; a v3 that adds a field without one
 * is refused, with the subject and the field named; and records written before a
 * registry restart still decode after it (schemas stored in the registry's H2 file).
 */
import avro from 'avsc';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { ConfluentCodec, valueSubject } from '../../src/records/confluent-codec.js';
import { OutputReader } from '../../src/records/output-reader.js';
import type { AugmentedSample } from '../../src/records/types.js';
import { createRegistryClient } from '../../src/registry/client.js';
import { localRegistryStatus, startLocalRegistry, stopLocalRegistry } from '../../src/registry/local-registry.js';
import { CCOMPAT_PATH } from '../../src/registry/local/paths.js';
import { isTeacherlmError, type TeacherlmError } from '../../src/errors.js';
import { testKafka, uniqueName } from '../support/brokers.js';
import { augmentedSample, registryPrerequisite, registryUrl } from '../support/registry.js';

const registryFound = registryPrerequisite('the schema evolution and durability tests');
import { readTopic } from '../pipeline/int-support.js';

/** The current AugmentedSample schema with one more field. */
function withField(field: Record<string, unknown>): avro.Type {
  const schema = recordCodecs().augmentedSample.type.schema({ exportAttrs: true }) as { fields: unknown[] };
  return avro.Type.forSchema({ ...schema, fields: [...schema.fields, field] } as avro.Schema);
}

async function produce(kafka: Kafka, topic: string, values: Buffer[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic, messages: values.map((value, i) => ({ key: String(i), value })) });
  await producer.disconnect();
}

describe.skipIf(!registryFound)('schema evolution', () => {
  let kafka: Kafka;
  beforeAll(() => {
    kafka = testKafka();
  });

  it('accepts a field added with a default, a v1 reader reads v2 records, and a field without a default is refused', async () => {
    const topic = uniqueName('augmented');
    await ensureTopics(kafka, [{ topic, partitions: 1, replicationFactor: 1, configs: {} }]);
    const registry = createRegistryClient(registryUrl());
    const subject = valueSubject(topic);
    const v1 = await ConfluentCodec.register<AugmentedSample>(registry, subject, recordCodecs().augmentedSample.type);
    const v2 = await ConfluentCodec.register<AugmentedSample & { reviewer: string }>(registry, subject, withField({ name: 'reviewer', type: 'string', default: 'none' }));
    expect(v2.schemaId).not.toBe(v1.schemaId);
    await produce(kafka, topic, [v1.encode(augmentedSample('old')), v2.encode({ ...augmentedSample('new'), reviewer: 'ada' })]);

    // A v1 reader: today's AugmentedSample shape, knowing nothing of `reviewer`.
    const reader = new OutputReader(createRegistryClient(registryUrl()));
    const records = await readTopic(kafka, topic, (v) => v, (rs) => rs.length >= 2);
    const decoded = await Promise.all(records.map((v) => reader.decodeAsync(v)));
    expect(decoded.map((d) => d.record)).toEqual([augmentedSample('old'), augmentedSample('new')]);

    let refused: unknown;
    try {
      await ConfluentCodec.register(registry, subject, withField({ name: 'grade', type: 'int' }));
    } catch (err) {
      refused = err;
    }
    expect(isTeacherlmError(refused, 'SCHEMA_REFUSED')).toBe(true);
    console.error(`[evolution] refused as expected: ${(refused as TeacherlmError).message}`);
    expect((refused as TeacherlmError).message).toMatch(new RegExp(`subject ${subject}: incompatible: .*grade`));
  });
});

describe.skipIf(!registryFound)('registry durability', () => {
  // Its own registry (ports 18084/18085), so restarting it disturbs no other test.
  const port = 18084;
  let kafka: Kafka;
  beforeAll(() => {
    kafka = testKafka();
  });
  afterAll(async () => {
    await stopLocalRegistry({ port });
  });

  it('decodes records written before a restart after it', async () => {
    const first = await startLocalRegistry({ port, fresh: true });
    const url = `${first.url}${CCOMPAT_PATH}`;
    const topic = uniqueName('augmented');
    await ensureTopics(kafka, [{ topic, partitions: 1, replicationFactor: 1, configs: {} }]);
    const codec = await ConfluentCodec.register<AugmentedSample>(createRegistryClient(url), valueSubject(topic), recordCodecs().augmentedSample.type);
    const ids = ['a', 'b', 'c'];
    await produce(kafka, topic, ids.map((id) => codec.encode(augmentedSample(id))));

    expect((await stopLocalRegistry({ port })).wasRunning).toBe(true);
    expect((await localRegistryStatus({ port })).running).toBe(false);
    const second = await startLocalRegistry({ port });
    expect(second.pid).not.toBe(first.pid);

    const reader = new OutputReader(createRegistryClient(url)); // a new client: nothing cached
    const records = await readTopic(kafka, topic, (v) => v, (rs) => rs.length >= ids.length);
    const decoded = await Promise.all(records.map((v) => reader.decodeAsync(v)));
    expect(decoded.map((d) => (d.record as AugmentedSample).id)).toEqual(ids);
  });
});
