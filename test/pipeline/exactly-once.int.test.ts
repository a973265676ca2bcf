/**
 * Exactly-once on the real broker: a pipeline aborted mid-stream (outputs sent, offsets
 * not committed: a crash) and restarted leaves each input exactly once in the augmented
 * and dead-letter topics as a read_committed reader sees them, where at-least-once
 * writes the aborted run's outputs again.
 */
import { describe, expect, it, vi } from 'vitest';
import { PartitionTransactions } from '../../src/kafka/partition-transactions.js';
import { KafkaSink } from '../../src/kafka/sink.js';
import { KafkaSource } from '../../src/kafka/source.js';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import type { Topology } from '../../src/pipeline/topology.js';
import { echoPipelineEnv, groupCaughtUp, produceInputs, readTopic, testTopology } from './int-support.js';

describe('exactly-once delivery on the real broker', () => {
  const env = echoPipelineEnv();

  function start(topology: Topology, options: { untilIdleMs?: number } = {}, ended = { commit: 0, abort: 0 }) {
    const source = new KafkaSource({ kafka: env.kafka, groupId: topology.consumer.group, topics: [topology.input.topic], lagRefreshMs: 0 });
    const sink = new KafkaSink({ kafka: env.kafka, topics: [topology.output.topic, topology.deadLetter.topic] });
    const metrics = { transaction: (outcome: 'commit' | 'abort') => void ended[outcome]++ };
    const transactions = new PartitionTransactions({ kafka: env.kafka, groupId: topology.consumer.group, maxRecordBytes: (t) => sink.maxRecordBytes(t), metrics });
    return runPipeline({ topology, source, sink, generators: env.generators, transactions, commitIntervalMs: 200, ...options });
  }

  /** Every key of both output topics, read_committed (kafkajs's default), until `n` distinct ones arrived. */
  async function keysOf(topology: Topology, n: number): Promise<string[]> {
    const keys: string[] = [];
    for (const topic of [topology.output.topic, topology.deadLetter.topic]) {
      const read = await readTopic(env.kafka, topic, (_v, m) => m.key?.toString() ?? '', () => false, 3_000);
      keys.push(...read);
    }
    expect(new Set(keys).size).toBe(n);
    return keys;
  }

  it('writes each input exactly once across a crash and a restart', async () => {
    const topology = testTopology({ echo: true, queueLimit: 512 });
    topology.delivery = 'exactly-once';
    const inputs = await produceInputs(env.kafka, topology, 3_000);
    const first = start(topology);
    await vi.waitFor(() => expect(first.stats().commits).toBeGreaterThan(1), { timeout: 60_000, interval: 20 });
    await first.abort(); // a crash: whatever was produced and not committed is aborted by the next owner's fencing
    expect(first.stats().augmented).toBeLessThan(inputs.validIds.size);

    const ended = { commit: 0, abort: 0 };
    const summary = await start(topology, { untilIdleMs: 1_500 }, ended).done;
    expect(summary.reason).toBe('idle');
    // The transactions metric: every commit round commits at least one partition's transaction; nothing failed.
    expect(ended.commit).toBeGreaterThanOrEqual(summary.commits);
    expect(ended.commit).toBeGreaterThan(0);
    expect(ended.abort).toBe(0);
    const keys = await keysOf(topology, 3_000);
    expect(keys).toHaveLength(3_000); // no duplicates
    expect(await groupCaughtUp(env.kafka, topology.consumer.group, topology.input.topic)).toBe(true);
  });
});
