/**
 * Outside clients work: JSON samples produced by Debian's kcat (librdkafka, not kafkajs)
 * are augmented by the pipeline (echo teacher), and `teacherlm tail` reads them back.
 * Skipped, with the reason printed, only when kcat is not installed (failed under CI).
 */
import { spawnSync } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { KafkaSink } from '../../src/kafka/sink.js';
import { KafkaSource } from '../../src/kafka/source.js';
import { createGenerators } from '../../src/pipeline/generators.js';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { parseTopology } from '../../src/pipeline/topology.js';
import type { AugmentedSample } from '../../src/records/types.js';
import { kafkaBrokers, testKafka, uniqueName } from '../support/brokers.js';
import { kcatPrerequisite } from '../support/prerequisite.js';
import { loggedSpans, runCli } from '../support/run-cli.js';

const kcatFound = kcatPrerequisite('the kcat pipeline test');

function kcat(args: string[], input?: string): string {
  const result = spawnSync('kcat', ['-b', kafkaBrokers().join(','), ...args], { input, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`kcat ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

describe.skipIf(!kcatFound)('samples from kcat through the pipeline to teacherlm tail', () => {
  let kafka: Kafka;
  beforeAll(() => {
    kafka = testKafka();
  });

  it('augments JSON lines produced by kcat and tails them back, trace context included', async () => {
    const topology = parseTopology({
      input: { topic: uniqueName('kcat-raw'), partitions: 2, format: 'auto' },
      output: { topic: uniqueName('kcat-augmented'), partitions: 2 },
      deadLetter: { topic: uniqueName('kcat-dead') },
      consumer: { group: uniqueName('kcat-pipeline') },
      teachers: ['fundamentals', 'cot', 'mistakes'].map((annotation) => ({ annotation, kind: 'echo' })),
    });
    await ensureTopics(kafka, [topology.input, topology.output, topology.deadLetter]);

    const samples = Array.from({ length: 5 }, (_, i) => ({
      id: `kcat-${i}`,
      task: 'CREAK',
      question: `Sentence ${i} is true. (A) True (B) False`,
      answer: i % 2 ? '(A)' : '(B)',
    }));
    const traceparent = '00-0123456789abcdef0123456789abcdef-00f067aa0ba902b7-01';
    // One message per line (no key); -H adds the W3C trace header to each.
    kcat(['-P', '-t', topology.input.topic, '-H', `traceparent=${traceparent}`], `${samples.map((s) => JSON.stringify(s)).join('\n')}\n`);

    const generators = await createGenerators(topology);
    const handle = runPipeline({
      topology,
      source: new KafkaSource({ kafka, groupId: topology.consumer.group, topics: [topology.input.topic] }),
      sink: new KafkaSink({ kafka }),
      generators,
      maxRecords: samples.length,
    });
    const summary = await handle.done;
    await Promise.all([...generators.values()].map((g) => g.close()));
    expect(summary).toMatchObject({ augmented: 5, deadLettered: 0 });

    // The output is readable by the independent client too: keyed by sample id.
    const keys = kcat(['-C', '-t', topology.output.topic, '-o', 'beginning', '-e', '-q', '-f', '%k\\n']).trim().split('\n');
    expect(keys.sort()).toEqual(samples.map((s) => s.id));

    const tail = await runCli(['tail', '--from-beginning', '--max', '5', '--topic', topology.output.topic]);
    expect(tail.code).toBe(0);
    const lines = tail.stdout.trim().split('\n').map((l) => JSON.parse(l) as AugmentedSample);
    expect(lines.map((l) => l.id).sort()).toEqual(samples.map((s) => s.id));
    for (const line of lines) {
      const sample = samples.find((s) => s.id === line.id)!;
      expect(line).toMatchObject({ question: sample.question, answer: sample.answer, context: null });
      expect(line.fundamentals?.text).toContain(sample.question);
      expect(line.chainOfThought?.text).toContain("Let's think step by step.");
      expect(line.commonMistakes?.modelId).toBe('echo');
      expect(line.source.topic).toBe(topology.input.topic);
    }
    // kcat's trace context survived the pipeline: tail's spans are its children.
    const spans = loggedSpans(tail.stderr);
    expect(spans).toHaveLength(5);
    for (const span of spans) {
      expect(span.traceId).toBe('0123456789abcdef0123456789abcdef');
      expect(span.parentSpanId).toBe('00f067aa0ba902b7');
    }
  });
});
