/** The topology, pipeline and prompt check shared by the pipeline tests on real llama.cpp servers. */
import type { Kafka } from 'kafkajs';
import { expect } from 'vitest';
import { PartitionTransactions } from '../../src/kafka/partition-transactions.js';
import { createGenerators } from '../../src/pipeline/generators.js';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { bindTeachers, engineKeyOf } from '../../src/pipeline/teacher-bindings.js';
import { parseTopology, type Topology } from '../../src/pipeline/topology.js';
import { pipelineEdges } from '../../src/service/pipeline-service.js';
import { EchoTeacher } from '../../src/teacher/echo-teacher.js';
import { LLAMA_SERVER_MODEL } from '../../tools/llama-server/server.js';
import { uniqueName } from '../support/brokers.js';

export const STYLES = { fundamentals: 'raw', cot: 'chat', mistakes: 'raw' } as const;

/** Three `kind: openai` teachers (raw and chat styles) on `baseUrls`, 3 input partitions. */
export function servedTopology(baseUrls: string[], extra: Record<string, unknown> = {}): Topology {
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

/** One pipeline as `teacherlm run` builds it (transactions for `delivery: exactly-once`), with its own engines. */
export async function startPipeline(kafka: Kafka, topology: Topology, options: { maxRecords?: number; untilIdleMs?: number } = {}) {
  const generators = await createGenerators(topology);
  const { source, sink } = pipelineEdges(kafka, topology, { source: { lagRefreshMs: 0 } });
  await sink.connect();
  const transactions =
    topology.delivery === 'exactly-once'
      ? new PartitionTransactions({ kafka, groupId: topology.consumer.group, maxRecordBytes: (t) => sink.maxRecordBytes(t) })
      : undefined;
  const handle = runPipeline({ topology, source, sink, generators, commitIntervalMs: 500, ...(transactions ? { transactions } : {}), ...options });
  return { handle, generators, close: () => Promise.all([...generators.values()].map((g) => g.close())) };
}

/**
 * The request bodies the servers were sent carry, byte for byte, the prompts the
 * in-process engine's bindings build for the same samples (ids `sample-<i>` of produceInputs).
 * `distinct`: compare each prompt once (a request the proxy forwarded may be retried after a dropped reply).
 */
export function expectEnginePrompts(topology: Topology, validIds: Set<string>, sent: unknown[], distinct = false): void {
  // Raw style for the engine: building its prompts needs no model.
  const engineTopology = { ...topology, teachers: topology.teachers.map((t) => ({ annotation: t.annotation, kind: 'onnx', model: 'unused', promptStyle: 'raw', generation: t.generation })) } as Topology;
  const engine = bindTeachers(engineTopology, new Map(topology.teachers.map((t) => [engineKeyOf({ ...t, kind: 'onnx', model: 'unused' }), new EchoTeacher()])));
  const samples = [...validIds].map((id) => ({ id, task: 'CREAK', question: `Is ${id.slice(7)} an even number? (A) True (B) False`, answer: Number(id.slice(7)) % 2 ? '(B)' : '(A)' }));
  const expected = (style: 'raw' | 'chat') => engine.filter((b) => STYLES[b.teacher.annotation] === style).flatMap((b) => samples.map((s) => b.promptFor(s))).sort();
  const bodies = sent as { prompt?: string; messages?: { role: string; content: string }[] }[];
  const once = (xs: string[]) => (distinct ? [...new Set(xs)] : xs);
  const raw = bodies.filter((b) => b.prompt !== undefined).map((b) => b.prompt as string).sort();
  const chat = bodies.filter((b) => b.messages !== undefined).map((b) => {
    expect(b.messages).toHaveLength(1);
    expect(b.messages?.[0]?.role).toBe('user');
    return b.messages?.[0]?.content as string;
  }).sort();
  expect(once(raw).map((p) => Buffer.from(p))).toEqual(expected('raw').map((p) => Buffer.from(p)));
  expect(once(chat).map((p) => Buffer.from(p))).toEqual(expected('chat').map((p) => Buffer.from(p)));
}
