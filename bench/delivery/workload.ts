/** What every delivery measurement shares: fresh topics per measurement, CREAK samples, a produced backlog, CPU flags. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '../../src/kafka/admin.js';
import type { Topology } from '../../src/pipeline/topology.js';
import type { RawSample } from '../../src/teacher/types.js';
import { CREAK_DEV } from '../../test/support/creak.js';

const run = Date.now().toString(36);

/** The topology on topics and a group no other measurement uses. */
export function freshTopology(topology: Topology, tag: string): Topology {
  return {
    ...topology,
    input: { ...topology.input, topic: `bench.${tag}.raw.${run}` },
    output: { ...topology.output, topic: `bench.${tag}.augmented.${run}` },
    deadLetter: { ...topology.deadLetter, topic: `bench.${tag}.dead-letter.${run}` },
    consumer: { ...topology.consumer, group: `bench-${tag}-${run}` },
  };
}

export function creakSamples(n: number, prefix = 'bench'): RawSample[] {
  const lines = readFileSync(CREAK_DEV, 'utf8').trimEnd().split('\n');
  return Array.from({ length: n }, (_, i) => {
    const row = JSON.parse(lines[i % lines.length] as string) as { question: string; answer: string; task_name: string };
    return { id: `${prefix}-${i}`, task: row.task_name, question: row.question, answer: row.answer, context: null, metadata: {} };
  });
}

/**
 * `headers(i)`: the headers of the i-th record, e.g. {@link producerTraceparent}'s, as a
 * traced producer (`teacherlm produce` with tracing on) writes them on every record.
 */
export async function produceBacklog(kafka: Kafka, topology: Topology, samples: RawSample[], headers?: (i: number) => Record<string, string>): Promise<void> {
  await ensureTopics(kafka, [topology.input, topology.output, topology.deadLetter]);
  const producer = kafka.producer();
  await producer.connect();
  const messages = samples.map((s, i) => ({ key: s.id, value: JSON.stringify(s), ...(headers ? { headers: headers(i) } : {}) }));
  for (let i = 0; i < messages.length; i += 2_000) await producer.send({ topic: topology.input.topic, messages: messages.slice(i, i + 2_000) });
  await producer.disconnect();
}

/**
 * A producer span's `traceparent` for record i, with new random ids, sampled for one record
 * in every round(1 / share) (0: none): what a producer tracing at that ratio sends.
 */
export function producerTraceparent(share: number): (i: number) => Record<string, string> {
  const every = share > 0 ? Math.round(1 / share) : 0;
  const hex = (bytes: number) => randomBytes(bytes).toString('hex');
  return (i) => ({ traceparent: `00-${hex(16)}-${hex(8)}-0${every > 0 && i % every === 0 ? 1 : 0}` });
}

/** The CPU's model name and flags (first processor of /proc/cpuinfo), since rates depend on them. */
export function cpuInfo(): { model: string; flags: string } {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? 'unknown';
    return { model: field('model name'), flags: field('flags') };
  } catch {
    return { model: 'unknown', flags: 'unknown (no /proc/cpuinfo)' };
  }
}

export const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/** The value at quantile q (0..1) of `values`, nearest rank. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}
