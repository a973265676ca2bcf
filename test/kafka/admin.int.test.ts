import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin } from 'kafkajs';
import { ensureTopics } from '../../src/kafka/admin.js';
import { isTeacherlmError } from '../../src/errors.js';
import { testKafka, uniqueName } from '../support/brokers.js';

describe('ensureTopics on the real broker', () => {
  const kafka = testKafka();
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
  });

  async function partitionsOf(topic: string): Promise<number> {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]!.partitions.length;
  }

  it('creates topics with partitions and configs, then leaves them alone', async () => {
    const a = uniqueName('admin-a');
    const b = uniqueName('admin-b');
    const specs = [
      { topic: a, partitions: 3 },
      { topic: b, partitions: 2, configs: { 'cleanup.policy': 'compact', 'retention.ms': '3600000' } },
    ];
    expect(await ensureTopics(kafka, specs)).toEqual({ created: [a, b], existing: [], grown: [] });
    expect(await ensureTopics(admin, specs)).toEqual({ created: [], existing: [a, b], grown: [] });
    expect(await partitionsOf(a)).toBe(3);

    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: b, configNames: ['cleanup.policy', 'retention.ms'] }] });
    const entries = Object.fromEntries(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    expect(entries).toEqual({ 'cleanup.policy': 'compact', 'retention.ms': '3600000' });
  });

  it('refuses to silently add partitions, and adds them when asked', async () => {
    const topic = uniqueName('admin-grow');
    await ensureTopics(admin, [{ topic, partitions: 1 }]);
    const err = await ensureTopics(admin, [{ topic, partitions: 4 }]).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'ADMIN_REFUSED')).toBe(true);
    expect((err as Error).message).toContain(`'${topic}' has 1 partitions, fewer than the 4 declared`);
    expect(await partitionsOf(topic)).toBe(1);

    expect(await ensureTopics(admin, [{ topic, partitions: 4 }], { growPartitions: true })).toEqual({ created: [], existing: [], grown: [topic] });
    expect(await partitionsOf(topic)).toBe(4);
  });

  it('names the topic when the broker refuses a replication factor it cannot meet', async () => {
    const ok = uniqueName('admin-ok');
    const bad = uniqueName('admin-rf3');
    const err = await ensureTopics(admin, [{ topic: ok, partitions: 1 }, { topic: bad, partitions: 1, replicationFactor: 3 }]).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'ADMIN_REFUSED')).toBe(true);
    expect((err as Error).message).toContain(`topic '${bad}'`);
    expect((err as Error).message).toMatch(/INVALID_REPLICATION_FACTOR/);
    expect((err as Error).message).not.toContain(`'${ok}'`);
  });

  it('names the topic when the broker refuses a config value', async () => {
    const topic = uniqueName('admin-badcfg');
    const err = await ensureTopics(admin, [{ topic, partitions: 1, configs: { 'cleanup.policy': 'shred' } }]).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'ADMIN_REFUSED')).toBe(true);
    expect((err as Error).message).toContain(`topic '${topic}'`);
  });
});
