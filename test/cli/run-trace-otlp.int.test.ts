/**
 * One connected trace per sample, end to end, as a collector receives it: one sample
 * produced by `teacherlm produce`, run through `teacherlm run` (echo teachers, a quality
 * gate), read back by the typed subscription (`subscribeAugmented`) in this process and
 * by `teacherlm student-feed` and by the Python example (examples/python/consume.py); all export over OTLP/HTTP in its default encoding, protobuf, to a receiver in this test
 * that decodes the export requests (support/otlp-receiver.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { STAGES } from '../../src/telemetry/stage-spans.js';
import { startTelemetry } from '../../src/telemetry/setup.js';
import { subscribeAugmented } from '../../src/subscribe/subscribe-augmented.js';
import { testTopology } from '../pipeline/int-support.js';
import { kafkaBrokers, testKafka, uniqueName } from '../support/brokers.js';
import { pythonConsume, ROOT } from '../support/registry.js';
import { type OtlpSpan, attributeOf, startOtlpReceiver } from '../support/otlp-receiver.js';
import { runCli } from '../support/run-cli.js';
import { topologyFile } from '../support/topology-file.js';

describe('one connected trace per sample, over OTLP/protobuf', () => {
  it('holds the producer, every pipeline stage, the batch and the consumer, in one tree', async () => {
    const kafka = testKafka();
    const topology = testTopology({ echo: true });
    await ensureTopics(kafka, [topology.input, topology.output, topology.deadLetter]);
    const samples = join(mkdtempSync(join(tmpdir(), 'trace-otlp-')), 'samples.jsonl');
    writeFileSync(samples, `${JSON.stringify({ id: 'traced-one', task: 'CREAK', question: 'Is ice cold? (A) True (B) False', answer: '(A)' })}\n`);

    const receiver = await startOtlpReceiver();
    try {
      // No OTEL_TRACES_EXPORTER: the endpoint alone turns OTLP on, in its default protocol.
      const otlp = { OTEL_TRACES_EXPORTER: '', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_METRICS_EXPORTER: 'none' };
      const produced = await runCli(['produce', samples, '--topic', topology.input.topic], otlp);
      expect(produced.code, produced.stderr).toBe(0);
      const file = topologyFile(topology, { quality: { onFailure: 'keep', attempts: 1 } });
      const ran = await runCli(['run', '--topology', file, '--max-records', '1'], otlp);
      expect(ran.code, ran.stderr).toBe(0);

      const telemetry = startTelemetry({ serviceName: 'trainer', env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
      try {
        const subscription = subscribeAugmented({ kafka, topic: topology.output.topic, group: uniqueName('trainer') });
        for await (const message of subscription) {
          expect(message.sample.id).toBe('traced-one');
          break;
        }
      } finally {
        await telemetry.shutdown();
      }
      const out = mkdtempSync(join(tmpdir(), 'trace-feed-'));
      const fed = await runCli(['student-feed', '--out', out, '--topic', topology.output.topic, '--group', uniqueName('feed'), '--until-idle', '3000'], otlp);
      expect(fed.code, fed.stderr).toBe(0);
      // The Python example, in its own venv (examples/python/requirements.txt pins its OpenTelemetry packages).
      const read = await pythonConsume(['--brokers', kafkaBrokers().join(','), '--topic', topology.output.topic, '--group', uniqueName('py'), '--schemas', join(ROOT, 'schemas'), '--max', '1'], otlp);
      expect(read.records.map((r) => r.id)).toEqual(['traced-one']);

      expect(receiver.encodings.length).toBeGreaterThan(0);
      expect(receiver.encodings.every((e) => e.startsWith('application/x-protobuf'))).toBe(true);
      const spans = receiver.spans;
      const send = spans.find((s) => s.name === `${topology.input.topic} send`);
      expect(send, spans.map((s) => s.name).join(', ')).toBeDefined();
      const trace = spans.filter((s) => s.traceId === send!.traceId);

      // One tree: a single root (the producer's span) and every other span's parent in the trace.
      const ids = new Set(trace.map((s) => s.spanId));
      const roots = trace.filter((s) => !s.parentSpanId);
      expect(roots.map((s) => s.name)).toEqual([`${topology.input.topic} send`]);
      for (const s of trace) if (s.parentSpanId) expect(ids.has(s.parentSpanId), `parent of ${s.name}`).toBe(true);
      expect(spans.filter((s) => s.traceId !== send!.traceId).map((s) => s.name)).toEqual([]);

      const process = trace.find((s) => s.name === `${topology.input.topic} process`)!;
      expect(process.parentSpanId).toBe(send!.spanId);
      expect(process.service).toBe('teacherlm-run');
      const children = (parent: OtlpSpan) => trace.filter((s) => s.parentSpanId === parent.spanId);
      const stages = new Set(children(process).map((s) => attributeOf(s, 'teacherlm.stage')).filter((s) => s !== undefined));
      expect([...stages].sort()).toEqual([...STAGES].sort());
      // Three teachers: a queue wait, an inference and a gate span each.
      for (const stage of ['queue', 'inference', 'gate']) expect(children(process).filter((s) => attributeOf(s, 'teacherlm.stage') === stage)).toHaveLength(3);

      // The engine calls (the three tasks in one batch or more, as they arrive): spans in the trace,
      // linked to the sample, with their attributes; the inference spans link to them.
      const batches = trace.filter((s) => s.name === 'teacherlm generate');
      expect(batches.length).toBeGreaterThan(0);
      expect(batches.reduce((n, b) => n + Number(attributeOf(b, 'teacherlm.batch.size')), 0)).toBe(3);
      for (const batch of batches) {
        expect(batch.links?.map((l) => l.spanId)).toEqual([process.spanId]);
        expect(attributeOf(batch, 'gen_ai.request.model')).toBe('echo');
        expect(attributeOf(batch, 'teacherlm.device')).toBe('cpu');
        expect(Number(attributeOf(batch, 'gen_ai.usage.input_tokens'))).toBeGreaterThan(0);
        expect(Number(attributeOf(batch, 'gen_ai.usage.output_tokens'))).toBeGreaterThan(0);
      }
      const batchIds = new Set(batches.map((b) => b.spanId));
      for (const inference of children(process).filter((s) => attributeOf(s, 'teacherlm.stage') === 'inference')) {
        expect(inference.links).toHaveLength(1);
        expect(batchIds.has(inference.links![0]!.spanId)).toBe(true);
      }

      // The consumers' spans (the typed subscription, the student feed), children of the pipeline's process span.
      const consumers = trace.filter((s) => s.name === `${topology.output.topic} process`);
      expect(consumers.map((s) => s.service).sort()).toEqual(['teacherlm-python-reader', 'teacherlm-student-feed', 'trainer']);
      for (const consumer of consumers) expect(consumer.parentSpanId).toBe(process.spanId);
    } finally {
      await receiver.close();
    }
  });
});
