import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGenerators } from '../../src/pipeline/generators.js';
import { runPipeline, type PipelineStats } from '../../src/pipeline/pipeline.js';
import type { Topology } from '../../src/pipeline/topology.js';
import { pipelineEdges } from '../../src/service/pipeline-service.js';
import type { TextGenerator } from '../../src/teacher/types.js';
import { testKafka } from '../support/brokers.js';
import { groupCaughtUp, produceInputs, readAugmented, readDeadLetters, testTopology, type InputSet } from './int-support.js';

const SAMPLES = 2_000;

describe('pipeline on the real broker with the tiny model', () => {
  let kafka: Kafka;
  let generators: Map<string, TextGenerator>;

  beforeAll(async () => {
    kafka = testKafka();
    generators = await createGenerators(testTopology());
  });
  afterAll(async () => {
    await Promise.all([...(generators?.values() ?? [])].map((g) => g.close()));
  });

  async function run(topology: Topology, options: { maxRecords?: number; untilIdleMs?: number } = {}) {
    // The source and sink `teacherlm run` uses.
    const { source, sink } = pipelineEdges(kafka, topology, { source: { lagRefreshMs: 0 } });
    await sink.connect();
    const handle = runPipeline({ topology, source, sink, generators, commitIntervalMs: 500, ...options });
    return { handle, source };
  }

  /**
   * Resolves after the first commit of the source at which `ready` holds; fails when the
   * pipeline ends first or `timeoutMs` passes, with the pipeline's stats.
   */
  function afterCommit(
    { handle, source }: Awaited<ReturnType<typeof run>>,
    ready: (commits: number, stats: PipelineStats) => boolean,
    timeoutMs: number,
  ): Promise<void> {
    const commit = source.commit.bind(source);
    let commits = 0;
    return new Promise<void>((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`${why} (${commits} commits): ${JSON.stringify(handle.stats())}`));
      const timer = setTimeout(() => fail(`not ready after ${timeoutMs / 1000} s`), timeoutMs);
      handle.done.then(() => fail('the pipeline ended first'), (err: unknown) => fail(`the pipeline failed first: ${String(err)}`));
      source.commit = async (offsets) => {
        await commit(offsets);
        if (ready(++commits, handle.stats())) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
  }

  /** Every valid id augmented (all three annotations), every malformed one dead-lettered with a reason, nothing else. */
  async function expectComplete(topology: Topology, inputs: InputSet) {
    const augmented = await readAugmented(kafka, topology.output.topic, inputs.validIds);
    const ids = new Set(augmented.map((a) => a.id));
    expect([...inputs.validIds].filter((id) => !ids.has(id))).toEqual([]);
    expect([...ids].filter((id) => !inputs.validIds.has(id))).toEqual([]);
    for (const a of augmented) {
      expect(a.fundamentals?.generatedTokens).toBeGreaterThan(0);
      expect(a.chainOfThought?.modelId).toBe('tiny-llama');
      expect(a.commonMistakes?.finishReason).toMatch(/^(eos|stop|length)$/);
    }
    const dead = await readDeadLetters(kafka, topology.deadLetter.topic, inputs.malformedIds);
    expect(new Set(dead.map((d) => d.key?.toString()))).toEqual(inputs.malformedIds);
    for (const d of dead) {
      expect(d.stage).toBe('decode');
      expect(['DECODE_FAILED', 'INVALID_SAMPLE']).toContain(d.errorCode);
      expect(d.errorMessage.length).toBeGreaterThan(0);
      expect(d.value?.length).toBeGreaterThan(0);
      expect(d.source.topic).toBe(topology.input.topic);
    }
    expect(await groupCaughtUp(kafka, topology.consumer.group, topology.input.topic)).toBe(true);
  }

  it(`augments all of ${SAMPLES} Avro and JSON samples and dead-letters the 2% malformed`, async () => {
    const topology = testTopology();
    const inputs = await produceInputs(kafka, topology, SAMPLES);
    expect(inputs.malformedIds.size).toBe(SAMPLES / 50);
    const { handle } = await run(topology, { maxRecords: SAMPLES });
    const summary = await handle.done;
    expect(summary).toMatchObject({ augmented: inputs.validIds.size, deadLettered: inputs.malformedIds.size, inFlight: 0 });
    expect(summary.shutdown).toMatchObject({ drained: true, committed: true });
    await expectComplete(topology, inputs);
  });

  it('gives the same result with queueLimit 8, pausing and resuming partitions', async () => {
    const topology = testTopology({ queueLimit: 8 });
    const inputs = await produceInputs(kafka, topology, SAMPLES);
    const { handle, source } = await run(topology, { maxRecords: SAMPLES });
    const summary = await handle.done;
    expect(summary, JSON.stringify({ summary, source: source.stats() })).toMatchObject({ augmented: inputs.validIds.size, deadLettered: inputs.malformedIds.size });
    expect(summary.queuePauses).toBeGreaterThan(10);
    expect(source.stats().resumes).toBeGreaterThan(10);
    // The queue stays bounded: the limit, plus at most one record per partition fetched before its pause.
    expect(summary.peakInFlight).toBeGreaterThanOrEqual(8);
    expect(summary.peakInFlight).toBeLessThanOrEqual(8 + 3);
    await expectComplete(topology, inputs);
  });

  it('loses nothing when it crashes mid-stream and restarts in the same group', async () => {
    const topology = testTopology();
    const inputs = await produceInputs(kafka, topology, SAMPLES);
    const first = await run(topology);
    // Crash once a good part is written and committed, with work still in flight.
    await afterCommit(first, (commits, stats) => commits >= 2 && stats.augmented >= 300, 120_000);
    const before = first.handle.stats();
    await first.handle.abort();
    expect(before.augmented + before.deadLettered).toBeLessThan(SAMPLES);
    const second = await run(topology, { untilIdleMs: 3_000 });
    const summary = await second.handle.done;
    // The restart resumes from the committed offsets, not from the beginning.
    expect(summary.consumed, JSON.stringify({ before, summary, source: second.source.stats() })).toBeLessThan(SAMPLES);
    await expectComplete(topology, inputs);
  });
});
