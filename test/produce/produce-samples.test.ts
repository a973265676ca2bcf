import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { IDENTITY_FIELD_MAP } from '../../src/records/field-map.js';
import { TeacherlmError } from '../../src/errors.js';
import type { OutRecord, RecordSink } from '../../src/pipeline/ports.js';
import type { InputRow } from '../../src/produce/input-rows.js';
import { produceSamples } from '../../src/produce/produce-samples.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { extractTraceContext } from '../../src/telemetry/kafka-headers.js';
import { inMemoryTracing } from '../support/in-memory-tracing.js';

/** An in-memory sink that records every send and can be told to fail. */
class MemorySink implements RecordSink {
  sends: OutRecord[][] = [];
  failAfter = Infinity;
  async send(records: OutRecord[]): Promise<void> {
    if (this.sends.length >= this.failAfter) throw new TeacherlmError('PRODUCE_FAILED', 'broker gone');
    this.sends.push(records);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

function sampleRow(line: number, id: string): InputRow {
  const record = { id, task: 'CREAK', question: `Q${id}? (A) True (B) False`, answer: '(A)' };
  return { line, record, raw: JSON.stringify(record) };
}

async function* from(rows: InputRow[]): AsyncGenerator<InputRow> {
  yield* rows;
}

describe('produceSamples', () => {
  const exporter = inMemoryTracing();

  const base = { topic: 'samples.raw', fieldMap: IDENTITY_FIELD_MAP, fromCsv: false };

  it('sends valid samples keyed by id in chunks, one span per sample whose context is in the headers', async () => {
    const sink = new MemorySink();
    const rows = Array.from({ length: 5 }, (_, i) => sampleRow(i + 1, `s${i}`));
    const totals = await produceSamples({ ...base, rows: from(rows), sink, valueFormat: 'json', chunkSize: 2 });
    expect(totals).toEqual({ rows: 5, sent: 5, invalid: 0, invalidSent: 0 });
    expect(sink.sends.map((s) => s.length)).toEqual([2, 2, 1]);
    const records = sink.sends.flat();
    expect(records.map((r) => r.key)).toEqual(['s0', 's1', 's2', 's3', 's4']);
    expect(JSON.parse(records[0]!.value.toString())).toEqual({
      id: 's0',
      task: 'CREAK',
      question: 'Qs0? (A) True (B) False',
      answer: '(A)',
      context: null,
      metadata: {},
    });

    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(5);
    for (const [i, record] of records.entries()) {
      const carried = trace.getSpanContext(extractTraceContext(record.headers));
      const span = spans.find((s) => s.attributes['teacherlm.sample.id'] === `s${i}`)!;
      expect(carried?.spanId).toBe(span.spanContext().spanId);
      expect(carried?.traceId).toBe(span.spanContext().traceId);
    }
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(5);
  });

  it('encodes Avro that the pipeline codec reads back', async () => {
    const sink = new MemorySink();
    const codec = recordCodecs().rawSample;
    await produceSamples({ ...base, rows: from([sampleRow(1, 'a1')]), sink, valueFormat: 'avro', codec });
    expect(codec.decode(sink.sends[0]![0]!.value)).toMatchObject({ id: 'a1', answer: '(A)' });
  });

  it('skips invalid rows by default and reports each with its line', async () => {
    const sink = new MemorySink();
    const reported: string[] = [];
    const rows: InputRow[] = [
      sampleRow(1, 'ok'),
      { line: 2, raw: '{bad', error: 'not valid JSON: x' },
      { line: 3, raw: '{"id":"n"}', record: { id: 'n' } },
    ];
    const totals = await produceSamples({
      ...base,
      rows: from(rows),
      sink,
      valueFormat: 'json',
      onInvalid: (row, reason) => reported.push(`${row.line}: ${reason}`),
    });
    expect(totals).toEqual({ rows: 3, sent: 1, invalid: 2, invalidSent: 0 });
    expect(reported).toEqual(['2: not valid JSON: x', '3: task: expected a non-empty string, got nothing']);
    expect(sink.sends.flat().map((r) => r.key)).toEqual(['ok']);
  });

  it('with sendInvalid, sends invalid rows as they are so the pipeline dead-letters them', async () => {
    const sink = new MemorySink();
    const rows: InputRow[] = [{ line: 1, raw: '{bad', error: 'not valid JSON' }, sampleRow(2, 'ok')];
    const totals = await produceSamples({ ...base, rows: from(rows), sink, valueFormat: 'json', sendInvalid: true });
    expect(totals).toEqual({ rows: 2, sent: 1, invalid: 1, invalidSent: 1 });
    const [bad] = sink.sends.flat();
    expect(bad).toMatchObject({ key: null, value: Buffer.from('{bad') });
    // A valid W3C traceparent (version 00, non-zero ids, a flags byte) naming this row's own span.
    const traceparent = String(bad?.headers.traceparent);
    const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(traceparent) ?? [];
    expect(traceId, traceparent).toBeDefined();
    expect(traceId).not.toMatch(/^0+$/);
    expect(spanId).not.toMatch(/^0+$/);
    const span = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === spanId);
    expect(span?.spanContext().traceId).toBe(traceId);
    expect(span?.attributes['teacherlm.input.line']).toBe(1);
  });

  it('fails with the sink error and marks the unsent spans failed', async () => {
    const sink = new MemorySink();
    sink.failAfter = 1;
    const rows = Array.from({ length: 6 }, (_, i) => sampleRow(i + 1, `s${i}`));
    await expect(
      produceSamples({ ...base, rows: from(rows), sink, valueFormat: 'json', chunkSize: 2, maxInFlightChunks: 1 }),
    ).rejects.toMatchObject({ code: 'PRODUCE_FAILED' });
    const failed = exporter.getFinishedSpans().filter((s) => s.status.code === 2);
    expect(failed).toHaveLength(2);
  });
});
