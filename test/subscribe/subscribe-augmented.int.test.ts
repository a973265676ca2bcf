/**
 * subscribeAugmented on the real broker and registry: typed samples from a topic holding
 * both output formats, nothing of an aborted transaction, and offsets committed only for
 * records whose loop body finished.
 */
import type { Kafka } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { subscribeAugmented, type AugmentedMessage } from '../../src/index.js';
import { ensureTopics } from '../../src/kafka/admin.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { ConfluentCodec, valueSubject } from '../../src/records/confluent-codec.js';
import type { AugmentedSample } from '../../src/records/types.js';
import { createRegistryClient } from '../../src/registry/client.js';
import { kafkaBrokers, testKafka, uniqueName } from '../support/brokers.js';
import { committedTotal } from '../support/committed-offsets.js';
import { augmentedSample, registryPrerequisite, registryUrl } from '../support/registry.js';

describe.skipIf(!registryPrerequisite('the subscribeAugmented tests'))('subscribeAugmented', () => {
  let kafka: Kafka;
  beforeAll(() => {
    kafka = testKafka();
  });

  it('yields typed samples of both formats, read_committed, committing only finished records', async () => {
    const topic = uniqueName('augmented');
    await ensureTopics(kafka, [{ topic, partitions: 1, replicationFactor: 1, configs: {} }]);
    const registry = createRegistryClient(registryUrl());
    const confluent = await ConfluentCodec.register<AugmentedSample>(registry, valueSubject(topic), recordCodecs().augmentedSample.type);
    const avro = recordCodecs().augmentedSample;
    const producer = kafka.producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const committedIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      const id = `s-${i}`;
      committedIds.push(id);
      const tx = await producer.transaction();
      await tx.send({ topic, messages: [{ key: id, value: (i % 2 ? confluent : avro).encode(augmentedSample(id)) }] });
      await tx.commit();
    }
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ key: 'aborted', value: avro.encode(augmentedSample('aborted')) }] });
    await aborted.abort();
    const last = await producer.transaction();
    await last.send({ topic, messages: [{ key: 's-20', value: confluent.encode(augmentedSample('s-20')) }] });
    await last.commit();
    committedIds.push('s-20');
    await producer.disconnect();

    const group = uniqueName('trainer');
    const seen: AugmentedMessage[] = [];
    for await (const message of subscribeAugmented({ brokers: kafkaBrokers(), topic, group, registryUrl: registryUrl() })) {
      seen.push(message);
      if (seen.length === 10) break; // the 10th body "fails": it is not committed
    }
    expect(await committedTotal(kafka, group, topic)).toBe(Number(seen[8]!.offset) + 1);

    const again = subscribeAugmented({ brokers: kafkaBrokers(), topic, group, registryUrl: registryUrl() });
    const rest: AugmentedMessage[] = [];
    for await (const message of again) {
      rest.push(message);
      if (message.sample.id === 's-20') break;
    }
    expect(rest[0]!.sample.id).toBe(seen[9]!.sample.id); // delivered again
    const ids = new Set([...seen, ...rest].map((m) => m.sample.id));
    expect(ids).toEqual(new Set(committedIds));
    expect(rest.at(-1)!.sample).toEqual(augmentedSample('s-20'));
  });
});
