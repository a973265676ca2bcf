/**
 * The pipeline on the real broker with `kind: openai` teachers on real llama.cpp servers
 * (llama-cpp-python, SmolLM2 Q4_1), behind fault-injecting proxies. The reduced form,
 * on llama.cpp's prebuilt server and in `npm test`, is openai-pipeline.prebuilt.int.test.ts.
 */
import { spawnSync } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Topology } from '../../src/pipeline/topology.js';
import { recordCodecs } from '../../src/records/codecs.js';
import type { OpenAiTeacher } from '../../src/teacher/openai/openai-teacher.js';
import { LLAMA_SERVER_MODEL, startLlamaServer, type LlamaServer } from '../../tools/llama-server/server.js';
import { kafkaBrokers, testKafka } from '../support/brokers.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { groupCaughtUp, produceInputs, readTopic } from './int-support.js';
import { expectEnginePrompts, servedTopology, startPipeline } from './openai-int-support.js';

const codecs = recordCodecs();

describe('pipeline with OpenAI teachers on llama.cpp servers', () => {
  let kafka: Kafka;
  const servers: LlamaServer[] = [];
  const proxies: FaultProxy[] = [];

  beforeAll(async () => {
    kafka = testKafka();
    for (let i = 0; i < 2; i++) {
      servers.push(await startLlamaServer({ threads: 1 }));
      proxies.push(await startFaultProxy(servers[i]!.baseUrl, 11 + i));
    }
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all(servers.map((s) => s.stop()));
  });

  const readOutputs = (topology: Topology, n: number) =>
    readTopic(kafka, topology.output.topic, (v) => codecs.augmentedSample.decode(v), (rs) => new Set(rs.map((r) => r.id)).size >= n);

  it('augments every sample, sending the servers the in-process engine\'s prompts byte for byte', async () => {
    const proxy = proxies[0]!;
    const topology = servedTopology([proxy.baseUrl]);
    const n = 24;
    const inputs = await produceInputs(kafka, topology, n);
    const seen = proxy.forwarded.length;
    const pipeline = await startPipeline(kafka, topology, { maxRecords: n });
    const summary = await pipeline.handle.done.finally(() => pipeline.close());
    expect(summary.deadLettered).toBe(0);
    const out = await readOutputs(topology, n);
    expect(new Set(out.map((r) => r.id))).toEqual(inputs.validIds);
    for (const r of out) {
      expect(r.chainOfThought?.modelId).toBe(LLAMA_SERVER_MODEL);
      expect(r.fundamentals?.generatedTokens).toBeGreaterThan(0);
      expect(r.commonMistakes?.finishReason).toMatch(/^(eos|stop|length)$/);
    }
    expectEnginePrompts(topology, inputs.validIds, proxy.forwarded.slice(seen));
    expect(await groupCaughtUp(kafka, topology.consumer.group, topology.input.topic)).toBe(true);
  });

  /** Restarts a server killed by an earlier test on its port, so the proxies in front of it reach it again. */
  async function serversUp(): Promise<void> {
    for (const [i, server] of servers.entries()) {
      if (!server.alive()) servers[i] = await startLlamaServer({ threads: 1, port: server.port });
    }
  }

  /** Every key of a topic as a read_committed reader sees it, read by kcat (an independent client). */
  function committedKeys(topic: string): string[] {
    const r = spawnSync('kcat', ['-b', kafkaBrokers().join(','), '-C', '-t', topic, '-X', 'isolation.level=read_committed', '-o', 'beginning', '-e', '-q', '-f', '%k\\n'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`kcat exited with ${r.status}: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean);
  }

  const duplicates = (keys: string[]) => keys.length - new Set(keys).size;

  // 20% 503s and 5% dropped connections on both proxies, the second server SIGKILLed, and
  // the pipeline itself crashed (abort: outputs sent, offsets not committed) and restarted.
  for (const delivery of ['at-least-once', 'exactly-once'] as const) {
    it(`${delivery}: loses nothing with 20% 503s, dropped connections, one of two servers SIGKILLed and the pipeline crashed mid-stream`, async () => {
      await serversUp();
      for (const p of proxies) p.faults = { status503: 0.2, drop: 0.05 };
      const topology: Topology = {
        ...servedTopology(proxies.map((p) => p.baseUrl), {
          requestRetry: { maxAttempts: 8, initialBackoffMs: 50, maxBackoffMs: 1000 },
          ejection: { afterFailures: 3, forMs: 60_000, maxMs: 60_000 },
          timeouts: { connectMs: 1000, requestMs: 30_000 },
        }),
        delivery,
      };
      const n = 60;
      const inputs = await produceInputs(kafka, topology, n);
      const victim = proxies[1]!;
      const before = victim.counts.forwarded;
      let pools: OpenAiTeacher[] = [];
      const first = await startPipeline(kafka, topology);
      try {
        pools = [...first.generators.values()] as OpenAiTeacher[];
        // Kill the second server once it has served some of this run, then crash the pipeline after a commit.
        while (victim.counts.forwarded - before < 15) await new Promise((r) => setTimeout(r, 50));
        await servers[1]!.kill();
        const crashAt = Math.floor(inputs.validIds.size / 3);
        while (first.handle.stats().augmented < crashAt || first.handle.stats().commits < 1) await new Promise((r) => setTimeout(r, 50));
        await first.handle.abort();
      } finally {
        await first.close();
      }
      const crashed = first.handle.stats();
      const second = await startPipeline(kafka, topology, { untilIdleMs: 3_000 });
      const summary = await second.handle.done.finally(() => second.close());
      for (const p of proxies) p.faults = {};

      // Nothing lost: every valid sample augmented, only the malformed input (every 50th) dead-lettered.
      const augmented = committedKeys(topology.output.topic);
      const dead = committedKeys(topology.deadLetter.topic);
      expect(new Set(augmented)).toEqual(inputs.validIds);
      expect(new Set(dead)).toEqual(inputs.malformedIds);
      const report = { delivery, crashedAfter: crashed.augmented, augmentedRecords: augmented.length, duplicates: duplicates(augmented) + duplicates(dead), restart: summary.reason };
      console.error(`[faults] ${JSON.stringify(report)}`);
      // Exactly-once: the aborted run's uncommitted outputs are invisible to read_committed.
      if (delivery === 'exactly-once') expect(report.duplicates).toBe(0);
      expect(await groupCaughtUp(kafka, topology.consumer.group, topology.input.topic)).toBe(true);
      expect(proxies.reduce((s, p) => s + p.counts.status503, 0)).toBeGreaterThan(0);
      expect(proxies.reduce((s, p) => s + p.counts.dropped, 0)).toBeGreaterThan(0);
      // The killed server was taken out of service.
      expect(pools.every((t) => (t.pool.servers[1]?.counts.ejected ?? 0) > 0)).toBe(true);
      console.error(`[faults] ${JSON.stringify({ proxies: proxies.map((p) => p.counts), servers: pools.map((t) => t.pool.servers.map((s) => ({ url: s.baseUrl, state: s.state, ...s.counts }))) })}`);
    });
  }
});
