import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BATCH_RECORDS } from '../../src/kafka/sink.js';
import { parseTopology } from '../../src/pipeline/topology.js';
import { PIPELINE_SINK_MAX_BATCH_RECORDS, pipelineEdges } from '../../src/service/pipeline-service.js';

/** A kafkajs client fake at its interface: it only records what the sink asks of its producer. */
function fakeKafka() {
  const producers: unknown[] = [];
  const kafka = { consumer: () => ({}), producer: (config: unknown) => (producers.push(config), {}), admin: () => ({}) } as unknown as Kafka;
  return { kafka, producers };
}

describe('pipelineEdges', () => {
  it("gives every run the pipeline's sink batching, not the sink's default", () => {
    const { kafka, producers } = fakeKafka();
    const { sink, source } = pipelineEdges(kafka, parseTopology({ input: { topic: 'in' }, output: { topic: 'out' }, deadLetter: { topic: 'dead' }, consumer: { group: 'g' }, teachers: [{ annotation: 'cot', kind: 'echo' }] }));
    expect(PIPELINE_SINK_MAX_BATCH_RECORDS).not.toBe(DEFAULT_MAX_BATCH_RECORDS);
    expect(sink.maxBatchRecords).toBe(PIPELINE_SINK_MAX_BATCH_RECORDS);
    expect(producers).toEqual([expect.objectContaining({ idempotent: true })]);
    expect(source.assigned()).toEqual([]);
  });
});
