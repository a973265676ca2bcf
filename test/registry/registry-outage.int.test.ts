/**
 * A schema registry outage while `format: confluent` input is decoded, on the real
 * broker and a real registry of its own (ports 18086/18087): records of a writer schema
 * id the pipeline has not fetched yet wait while the registry is stopped (the bounded
 * queue pauses the partition), and once it is started again every record is augmented
 * and none is dead-lettered.
 */
import avro from 'avsc';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { createGenerators } from '../../src/pipeline/generators.js';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { parseTopology } from '../../src/pipeline/topology.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { ConfluentCodec, valueSubject } from '../../src/records/confluent-codec.js';
import type { RawSample } from '../../src/records/types.js';
import { createRegistryClient } from '../../src/registry/client.js';
import { startLocalRegistry, stopLocalRegistry } from '../../src/registry/local-registry.js';
import { CCOMPAT_PATH } from '../../src/registry/local/paths.js';
import { topologyCodecs } from '../../src/service/topology-codecs.js';
import { pipelineEdges } from '../../src/service/pipeline-service.js';
import { testKafka, uniqueName } from '../support/brokers.js';
import { registryPrerequisite } from '../support/registry.js';
import { readTopic } from '../pipeline/int-support.js';

const PORT = 18086;
const BATCH = 30;

function sample(id: string): RawSample {
  return { id, task: 'CREAK', question: `Is ${id} real? (A) True (B) False`, answer: '(A)', context: null, metadata: {} };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!registryPrerequisite('the registry outage test'))('a registry outage under confluent input', () => {
  let kafka: Kafka;
  beforeAll(() => {
    kafka = testKafka();
  });
  afterAll(async () => {
    await stopLocalRegistry({ port: PORT });
  });

  it('holds the records back while the registry is down, and augments every one once it is up', async () => {
    const started = await startLocalRegistry({ port: PORT, fresh: true });
    const url = `${started.url}${CCOMPAT_PATH}`;
    const topology = parseTopology({
      input: { topic: uniqueName('raw'), partitions: 1, format: 'confluent' },
      output: { topic: uniqueName('augmented'), partitions: 1 },
      deadLetter: { topic: uniqueName('dead-letter'), partitions: 1 },
      consumer: { group: uniqueName('outage') },
      teachers: ['fundamentals', 'cot', 'mistakes'].map((annotation) => ({ annotation, kind: 'echo', generation: { maxNewTokens: 4 } })),
      batching: { maxBatchSize: 4, maxBatchTokens: 4096, maxWaitMs: 20, queueLimit: 8 },
    });
    await ensureTopics(kafka, [topology.input, topology.output, topology.deadLetter]);
    const registry = createRegistryClient(url);
    const codecs = await topologyCodecs(topology, registry);
    // A second writer version (one more field, with a default): its id is one the pipeline has not fetched.
    const v1 = recordCodecs().rawSample.type.schema({ exportAttrs: true }) as { fields: unknown[] };
    const v2Type = avro.Type.forSchema({ ...v1, fields: [...v1.fields, { name: 'origin', type: 'string', default: '' }] } as avro.Schema);
    const v2 = await ConfluentCodec.register<RawSample & { origin: string }>(registry, valueSubject(topology.input.topic), v2Type);

    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const produce = (ids: string[], encode: (s: RawSample) => Buffer) =>
      producer.send({ topic: topology.input.topic, messages: ids.map((id) => ({ key: id, value: encode(sample(id)) })) });
    const before = Array.from({ length: BATCH }, (_, i) => `before-${i}`);
    const during = Array.from({ length: BATCH }, (_, i) => `during-${i}`);

    const generators = await createGenerators(topology);
    const { source, sink } = pipelineEdges(kafka, topology, { source: { lagRefreshMs: 0 } });
    await sink.connect();
    const events: Record<string, unknown>[] = [];
    const handle = runPipeline({ topology, source, sink, generators, codecs, commitIntervalMs: 500, log: (e) => events.push(e) });
    try {
      await produce(before, (s) => codecs.confluentRawSample!.encode(s));
      await until('the records written before the outage', () => handle.stats().augmented === BATCH);

      await stopLocalRegistry({ port: PORT });
      await produce(during, (s) => v2.encode({ ...s, origin: 'v2' }));
      await until('a failed lookup', () => events.filter((e) => e.event === 'registry-unreachable').length >= 2);
      await until('the queue to pause the partition', () => handle.stats().pausedPartitions === 1);
      const held = handle.stats();
      expect(held.augmented).toBe(BATCH);
      expect(held.deadLettered).toBe(0);
      console.error(`[outage] held back: ${JSON.stringify(events.filter((e) => e.event === 'registry-unreachable').slice(0, 2))}`);

      await startLocalRegistry({ port: PORT });
      await until('every record', () => handle.stats().augmented === 2 * BATCH, 120_000);
      expect(events.some((e) => e.event === 'registry-answered')).toBe(true);
    } finally {
      await handle.stop();
      await producer.disconnect();
      await Promise.all([...generators.values()].map((g) => g.close()));
    }
    const summary = handle.stats();
    expect(summary.deadLettered).toBe(0);
    const out = await readTopic(kafka, topology.output.topic, (v) => recordCodecs().augmentedSample.decode(v).id, (ids) => ids.length >= 2 * BATCH);
    expect(new Set(out)).toEqual(new Set([...before, ...during]));
    const dead = await readTopic(kafka, topology.deadLetter.topic, (v) => v, () => false, 2_000);
    expect(dead).toEqual([]);
  });
});
