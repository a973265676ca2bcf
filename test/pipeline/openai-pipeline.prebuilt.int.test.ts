/**
 * The reduced form of openai-pipeline.server.int.test.ts, in `npm test`: `kind: openai`
 * teachers on a real llama.cpp server (llama.cpp's prebuilt `llama-server` from PyPI,
 * which installs and starts in seconds cold), behind a fault-injecting proxy, with
 * `delivery: exactly-once`. Every sample is augmented exactly once as a read_committed
 * reader sees it, and the server was sent the in-process engine's prompts byte for byte.
 */
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCodecs } from '../../src/records/codecs.js';
import { LLAMA_SERVER_MODEL, startLlamaServer, type LlamaServer } from '../../tools/llama-server/server.js';
import { testKafka } from '../support/brokers.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { groupCaughtUp, produceInputs, readTopic } from './int-support.js';
import { expectEnginePrompts, servedTopology, startPipeline } from './openai-int-support.js';

describe('pipeline with OpenAI teachers on llama.cpp\'s prebuilt server', () => {
  let kafka: Kafka;
  let server: LlamaServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    kafka = testKafka();
    server = await startLlamaServer({ prebuilt: true, threads: 1, log: (line) => console.error(`[llama-server] ${line}`) });
    proxy = await startFaultProxy(server.baseUrl, 7);
  }, 1_800_000); // on a CPU the prebuilt binary cannot run, startLlamaServer builds llama.cpp from source (about 10 minutes, once)
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('augments every sample exactly once through 503s and dropped connections, with the engine\'s prompts', async () => {
    proxy.faults = { status503: 0.2, drop: 0.05 };
    const topology = {
      ...servedTopology([proxy.baseUrl], { requestRetry: { maxAttempts: 8, initialBackoffMs: 50, maxBackoffMs: 500 }, timeouts: { connectMs: 1000, requestMs: 30_000 } }),
      delivery: 'exactly-once' as const,
    };
    const n = 12;
    const inputs = await produceInputs(kafka, topology, n);
    const pipeline = await startPipeline(kafka, topology, { untilIdleMs: 1_500 });
    const summary = await pipeline.handle.done.finally(() => pipeline.close());
    proxy.faults = {};
    expect(summary.deadLettered).toBe(0);

    // kafkajs reads read_committed.
    const out = await readTopic(kafka, topology.output.topic, (v) => recordCodecs().augmentedSample.decode(v), () => false, 3_000);
    expect(out.map((r) => r.id).sort()).toEqual([...inputs.validIds].sort());
    for (const r of out) {
      expect(r.chainOfThought?.modelId).toBe(LLAMA_SERVER_MODEL);
      expect(r.fundamentals?.generatedTokens).toBeGreaterThan(0);
      expect(r.fundamentals?.promptTokens).toBeGreaterThan(0);
    }
    expect(proxy.counts.status503).toBeGreaterThan(0);
    expect(proxy.counts.dropped).toBeGreaterThan(0);
    expectEnginePrompts(topology, inputs.validIds, proxy.forwarded, true);
    expect(await groupCaughtUp(kafka, topology.consumer.group, topology.input.topic)).toBe(true);
  });
});
