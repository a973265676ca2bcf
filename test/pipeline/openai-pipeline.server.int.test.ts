/**
 * The pipeline on the real broker with `kind: openai` teachers on real llama.cpp servers
 * (llama-cpp-python, SmolLM2 Q4_1), behind fault-injecting proxies.
 */
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGenerators } from '../../src/pipeline/generators.js';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { pipelineEdges } from '../../src/service/pipeline-service.js';
import { bindTeachers, engineKeyOf } from '../../src/pipeline/teacher-bindings.js';
import { parseTopology, type Topology } from '../../src/pipeline/topology.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { EchoTeacher } from '../../src/teacher/echo-teacher.js';
import type { OpenAiTeacher } from '../../src/teacher/openai/openai-teacher.js';
import type { TextGenerator } from '../../src/teacher/types.js';
import { LLAMA_SERVER_MODEL, startLlamaServer, type LlamaServer } from '../../tools/llama-server/server.js';
import { testKafka, uniqueName } from '../support/brokers.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { groupCaughtUp, produceInputs, readTopic } from './int-support.js';

const codecs = recordCodecs();
const STYLES = { fundamentals: 'raw', cot: 'chat', mistakes: 'raw' } as const;

function servedTopology(baseUrls: string[], extra: Record<string, unknown> = {}): Topology {
  return parseTopology({
    input: { topic: uniqueName('raw'), partitions: 3 },
    output: { topic: uniqueName('augmented'), partitions: 3 },
    deadLetter: { topic: uniqueName('dead-letter'), partitions: 1 },
    consumer: { group: uniqueName('openai') },
    teachers: Object.entries(STYLES).map(([annotation, promptStyle]) => ({
      annotation, kind: 'openai', model: LLAMA_SERVER_MODEL, promptStyle, baseUrls, dialect: 'llama.cpp',
      generation: { maxNewTokens: 4, temperature: 0 }, ...extra,
    })),
    batching: { maxBatchSize: 8, maxBatchTokens: 8192, maxWaitMs: 20, queueLimit: 64 },
    retry: { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 500 },
  });
}

/** The prompts the in-process engine would be given for the same teachers (raw style: no model needed to build them). */
function engineTopology(topology: Topology): Topology {
  return { ...topology, teachers: topology.teachers.map((t) => ({ annotation: t.annotation, kind: 'onnx', model: 'unused', promptStyle: 'raw', generation: t.generation })) };
}

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

  async function run(topology: Topology, maxRecords: number, whileRunning: (generators: Map<string, TextGenerator>) => Promise<void> = async () => {}) {
    const generators = await createGenerators(topology);
    const { source, sink } = pipelineEdges(kafka, topology, { source: { lagRefreshMs: 0 } });
    await sink.connect();
    try {
      const handle = runPipeline({ topology, source, sink, generators, commitIntervalMs: 500, maxRecords });
      await whileRunning(generators);
      return await handle.done;
    } finally {
      await Promise.all([...generators.values()].map((g) => g.close()));
    }
  }

  const readOutputs = (topology: Topology, n: number) =>
    readTopic(kafka, topology.output.topic, (v) => codecs.augmentedSample.decode(v), (rs) => new Set(rs.map((r) => r.id)).size >= n);

  it('augments every sample, sending the servers the in-process engine\'s prompts byte for byte', async () => {
    const proxy = proxies[0]!;
    const topology = servedTopology([proxy.baseUrl]);
    const n = 24;
    const inputs = await produceInputs(kafka, topology, n);
    const seen = proxy.forwarded.length;
    const summary = await run(topology, n);
    expect(summary.deadLettered).toBe(0);
    const out = await readOutputs(topology, n);
    expect(new Set(out.map((r) => r.id))).toEqual(inputs.validIds);
    for (const r of out) {
      expect(r.chainOfThought?.modelId).toBe(LLAMA_SERVER_MODEL);
      expect(r.fundamentals?.generatedTokens).toBeGreaterThan(0);
      expect(r.commonMistakes?.finishReason).toMatch(/^(eos|stop|length)$/);
    }
    // What the servers were sent, against what the engine's bindings build for the same samples.
    const sent = proxy.forwarded.slice(seen) as { prompt?: string; messages?: { role: string; content: string }[] }[];
    const engine = bindTeachers(engineTopology(topology), new Map(topology.teachers.map((t) => [engineKeyOf({ ...t, kind: 'onnx', model: 'unused' }), new EchoTeacher()])));
    const samples = [...inputs.validIds].map((id) => ({ id, task: 'CREAK', question: `Is ${id.slice(7)} an even number? (A) True (B) False`, answer: Number(id.slice(7)) % 2 ? '(B)' : '(A)' }));
    const expected = (style: 'raw' | 'chat') =>
      engine.filter((b) => STYLES[b.teacher.annotation] === style).flatMap((b) => samples.map((s) => b.promptFor(s))).sort();
    const raw = sent.filter((b) => b.prompt !== undefined).map((b) => b.prompt as string).sort();
    const chat = sent.filter((b) => b.messages !== undefined).map((b) => {
      expect(b.messages).toHaveLength(1);
      expect(b.messages?.[0]?.role).toBe('user');
      return b.messages?.[0]?.content as string;
    }).sort();
    expect(raw.map((p) => Buffer.from(p))).toEqual(expected('raw').map((p) => Buffer.from(p)));
    expect(chat.map((p) => Buffer.from(p))).toEqual(expected('chat').map((p) => Buffer.from(p)));
    expect(await groupCaughtUp(kafka, topology.consumer.group, topology.input.topic)).toBe(true);
  });

  it('loses nothing with 20% 503s, dropped connections and one of two servers SIGKILLed mid-stream', async () => {
    for (const p of proxies) p.faults = { status503: 0.2, drop: 0.05 };
    const topology = servedTopology(proxies.map((p) => p.baseUrl), {
      requestRetry: { maxAttempts: 8, initialBackoffMs: 50, maxBackoffMs: 1000 },
      ejection: { afterFailures: 3, forMs: 60_000, maxMs: 60_000 },
      timeouts: { connectMs: 1000, requestMs: 30_000 },
    });
    const n = 60;
    const inputs = await produceInputs(kafka, topology, n);
    const victim = proxies[1]!;
    const before = victim.counts.forwarded;
    let pools: OpenAiTeacher[] = [];
    const summary = await run(topology, n, async (generators) => {
      pools = [...generators.values()] as OpenAiTeacher[];
      // Kill the second server once it has served some of this run.
      while (victim.counts.forwarded - before < 15) await new Promise((r) => setTimeout(r, 50));
      await servers[1]!.kill();
    });
    for (const p of proxies) p.faults = {};
    // Only the malformed input (every 50th) is dead-lettered: no sample lost to the faults.
    expect(summary.deadLettered).toBe(inputs.malformedIds.size);
    expect(summary.augmented).toBe(inputs.validIds.size);
    const out = await readOutputs(topology, inputs.validIds.size);
    expect(new Set(out.map((r) => r.id))).toEqual(inputs.validIds);
    // Written once each (at least once, and nothing restarted here).
    expect(out).toHaveLength(inputs.validIds.size);
    expect(proxies.reduce((s, p) => s + p.counts.status503, 0)).toBeGreaterThan(0);
    expect(proxies.reduce((s, p) => s + p.counts.dropped, 0)).toBeGreaterThan(0);
    // The killed server was taken out of service.
    expect(pools.every((t) => (t.pool.servers[1]?.counts.ejected ?? 0) > 0)).toBe(true);
    console.error(`[faults] ${JSON.stringify({ proxies: proxies.map((p) => p.counts), servers: pools.map((t) => t.pool.servers.map((s) => ({ url: s.baseUrl, state: s.state, ...s.counts }))) })}`);
  });
});
