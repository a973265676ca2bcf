/**
 * One trace per sample through the real commands on the real broker: `teacherlm produce`
 * (a `<topic> send` span per sample) -> `teacherlm run` with the echo topology (a
 * `<topic> process` span, child of the send span) -> the augmented record's
 * `traceparent` -> `teacherlm tail` (a `<topic> receive` span, child of the process span);
 * the engine's batch spans (`teacherlm generate`) link to the samples' process spans.
 * Spans come from OTEL_TRACES_EXPORTER=console (JSON lines on stderr, see run-cli.ts); the
 * OTLP path, with every stage span, is run-trace-otlp.int.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { readMessages, testTopology } from '../pipeline/int-support.js';
import { testKafka } from '../support/brokers.js';
import { type LoggedSpan, loggedSpans, runCli } from '../support/run-cli.js';
import { topologyFile } from '../support/topology-file.js';

const W3C = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

function byName(spans: LoggedSpan[], name: string): LoggedSpan[] {
  return spans.filter((s) => s.span === name);
}

describe('teacherlm run, traced', () => {
  it("continues each sample's producer trace to the augmented record and its consumer", async () => {
    const kafka = testKafka();
    const topology = testTopology({ echo: true });
    await ensureTopics(kafka, [topology.input, topology.output, topology.deadLetter]);
    const ids = Array.from({ length: 6 }, (_, i) => `traced-${i}`);
    const samples = join(mkdtempSync(join(tmpdir(), 'traced-')), 'samples.jsonl');
    writeFileSync(samples, ids.map((id, i) => JSON.stringify({ id, task: 'CREAK', question: `Is ${i} even? (A) True (B) False`, answer: '(A)' })).join('\n'));

    const produced = await runCli(['produce', samples, '--topic', topology.input.topic]);
    expect(produced.code, produced.stderr).toBe(0);
    const sends = byName(loggedSpans(produced.stderr), `${topology.input.topic} send`);
    expect(sends).toHaveLength(ids.length);
    const sendOf = new Map(sends.map((s) => [s.attributes['messaging.kafka.message.key'] as string, s]));
    expect([...sendOf.keys()].sort()).toEqual(ids);

    const ran = await runCli(['run', '--topology', topologyFile(topology), '--max-records', String(ids.length)]);
    expect(ran.code, ran.stderr).toBe(0);
    const processes = byName(loggedSpans(ran.stderr), `${topology.input.topic} process`);
    expect(processes).toHaveLength(ids.length);
    // Each process span is a child of one sample's send span, in that span's trace.
    for (const process of processes) {
      const send = sends.find((s) => s.spanId === process.parentSpanId);
      expect(send, `parent of process span ${process.spanId}`).toBeDefined();
      expect(process.traceId).toBe(send!.traceId);
      expect(process.attributes['teacherlm.output.topic']).toBe(topology.output.topic);
    }
    expect(new Set(processes.map((p) => p.parentSpanId)).size).toBe(ids.length);
    // The engine calls (one span per batch) link to every sample's process span.
    const generates = byName(loggedSpans(ran.stderr), 'teacherlm generate');
    expect(generates.length).toBeGreaterThan(0);
    const linked = new Set(generates.flatMap((g) => (g.links ?? []).map((l) => `${l.traceId}/${l.spanId}`)));
    expect([...linked].sort()).toEqual(processes.map((p) => `${p.traceId}/${p.spanId}`).sort());

    // The augmented record carries the process span's context: same trace as its producer's.
    const headers = (await readMessages(kafka, topology.output.topic, ids.length)).map((m) => ({
      id: m.key!.toString(),
      traceparent: m.headers?.traceparent?.toString() ?? '',
    }));
    expect(headers.map((h) => h.id).sort()).toEqual(ids);
    for (const { id, traceparent } of headers) {
      const [, traceId, spanId] = W3C.exec(traceparent) ?? [];
      expect(traceId, `traceparent of ${id}: ${traceparent}`).toBe(sendOf.get(id)!.traceId);
      expect(processes.find((p) => p.spanId === spanId)?.parentSpanId).toBe(sendOf.get(id)!.spanId);
    }

    // And the consumer continues it.
    const tailed = await runCli(['tail', '--from-beginning', '--max', String(ids.length), '--topic', topology.output.topic]);
    expect(tailed.code, tailed.stderr).toBe(0);
    const receives = byName(loggedSpans(tailed.stderr), `${topology.output.topic} receive`);
    expect(receives).toHaveLength(ids.length);
    for (const receive of receives) {
      const process = processes.find((p) => p.spanId === receive.parentSpanId);
      expect(process, `parent of receive span ${receive.spanId}`).toBeDefined();
      expect(receive.traceId).toBe(process!.traceId);
    }
  });
});
