/**
 * Record sizes never stop the stream: 1 kB questions on 6 input partitions (one produce
 * request per partition used to exceed max.message.bytes and kill the pipeline on every
 * restart), and a sample whose augmented record cannot fit its topic is dead-lettered as
 * RECORD_TOO_LARGE, truncated to fit the dead-letter topic, with its size and hash.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { KafkaSink } from '../../src/kafka/sink.js';
import { KafkaSource } from '../../src/kafka/source.js';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { PIPELINE_SINK_MAX_BATCH_RECORDS as SINK_MAX_BATCH_RECORDS } from '../../src/service/pipeline-service.js';
import { echoPipelineEnv, readAugmented, readDeadLetters, testTopology } from './int-support.js';

describe('pipeline with large records on the real broker', () => {
  const env = echoPipelineEnv();

  it('augments 1 kB questions on 6 partitions and dead-letters, truncated, the one that cannot fit', async () => {
    const topology = testTopology({ echo: true });
    topology.input.partitions = 6;
    topology.output.configs = { 'max.message.bytes': '400000' };
    topology.deadLetter.configs = { 'max.message.bytes': '100000' };
    await ensureTopics(env.kafka, [topology.input, topology.output, topology.deadLetter]);
    const ids = new Set<string>();
    const messages = Array.from({ length: 1_500 }, (_, i) => {
      ids.add(`q${i}`);
      return { key: `q${i}`, value: JSON.stringify({ id: `q${i}`, task: 't', question: 'Q'.repeat(1_000), answer: 'A' }) };
    });
    const huge = Buffer.from(JSON.stringify({ id: 'huge', task: 't', question: 'H'.repeat(600_000), answer: 'A' }));
    messages.splice(700, 0, { key: 'huge', value: huge.toString() });
    const producer = env.kafka.producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < messages.length; i += 200) await producer.send({ topic: topology.input.topic, messages: messages.slice(i, i + 200) });
    await producer.disconnect();

    const source = new KafkaSource({ kafka: env.kafka, groupId: topology.consumer.group, topics: [topology.input.topic], lagRefreshMs: 0 });
    const sink = new KafkaSink({ kafka: env.kafka, maxBatchRecords: SINK_MAX_BATCH_RECORDS, topics: [topology.output.topic, topology.deadLetter.topic] });
    await sink.connect();
    const handle = runPipeline({ topology, source, sink, generators: env.generators, commitIntervalMs: 500, untilIdleMs: 2_000 });
    const summary = await handle.done;
    expect(summary).toMatchObject({ augmented: 1_500, deadLettered: 1 });

    const augmented = await readAugmented(env.kafka, topology.output.topic, ids);
    expect(new Set(augmented.map((a) => a.id))).toEqual(ids);
    const [dead] = await readDeadLetters(env.kafka, topology.deadLetter.topic, new Set(['huge']));
    expect(dead).toMatchObject({ errorCode: 'RECORD_TOO_LARGE', stage: 'encode', sampleId: 'huge', originalValueSize: huge.length });
    expect(dead?.originalValueSha256).toBe(createHash('sha256').update(huge).digest('hex'));
    expect(dead?.value?.length).toBeLessThan(100_000);
    expect(huge.subarray(0, dead?.value?.length).equals(dead!.value!)).toBe(true);
  });
});
