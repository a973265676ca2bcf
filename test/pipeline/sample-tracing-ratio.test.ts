import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { parseTopology } from '../../src/pipeline/topology.js';
import { EchoTeacher } from '../../src/teacher/echo-teacher.js';
import { type Telemetry, startTelemetry } from '../../src/telemetry/setup.js';
import { sourceRecord } from './fakes.js';
import { MemorySink, MemorySource } from './memory-ports.js';
import { pythonKeeps } from '../support/python-trace-ratio.js';

const topology = parseTopology({
  input: { topic: 'in' },
  output: { topic: 'out' },
  deadLetter: { topic: 'dlq' },
  consumer: { group: 'g' },
  teachers: ['fundamentals', 'cot'].map((annotation) => ({ annotation, kind: 'echo', generation: { maxNewTokens: 3 } })),
  batching: { maxBatchSize: 16, maxWaitMs: 1, queueLimit: 512 },
});

const sample = (i: number) => JSON.stringify({ id: `s${i}`, task: 'CREAK', question: `Is ${i} fine? (A) True (B) False`, answer: '(A)' });
/** Rightmost 8 bytes all ones: no ratio below 1 keeps this trace. */
const UNKEPT_TRACE = '0af7651916cd43ddffffffffffffffff';

let telemetry: Telemetry | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await telemetry?.shutdown();
});

async function run(ratio: string, records: ReturnType<typeof sourceRecord>[]) {
  const exporter = new InMemorySpanExporter();
  telemetry = startTelemetry({ spanProcessors: [new SimpleSpanProcessor(exporter)], env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: ratio } });
  const sink = new MemorySink();
  const handle = runPipeline({ topology, source: new MemorySource(records), sink, generators: new Map([['echo', new EchoTeacher()]]), maxRecords: records.length });
  await handle.done;
  return { spans: exporter.getFinishedSpans(), sink };
}

describe('sampling decided by the pipeline', () => {
  it('traces about the ratio of new traces, with ids the ratio keeps, and the rest not at all', async () => {
    const { spans, sink } = await run('0.25', Array.from({ length: 400 }, (_, i) => sourceRecord(i, sample(i))));
    const processes = spans.filter((s) => s.name === 'in process');
    // 100 expected; binomial standard deviation about 8.7.
    expect(processes.length).toBeGreaterThan(55);
    expect(processes.length).toBeLessThan(145);
    for (const p of processes) expect(pythonKeeps(p.spanContext().traceId, 0.25)).toBe(true);
    // Every span is in a kept sample's trace, and a kept sample's output names it; the others' outputs carry no context.
    const traces = new Set(processes.map((p) => p.spanContext().traceId));
    for (const s of spans) expect(traces.has(s.spanContext().traceId)).toBe(true);
    const withContext = sink.records.filter((r) => r.headers.traceparent !== undefined);
    expect(withContext).toHaveLength(processes.length);
    for (const r of withContext) expect(traces.has(String(r.headers.traceparent).split('-')[1]!)).toBe(true);
  });

  it("keeps its producer's sampled flag whatever the ratio would say of the id", async () => {
    const record = sourceRecord(0, sample(0));
    record.headers = { traceparent: Buffer.from(`00-${UNKEPT_TRACE}-b7ad6b7169203331-01`) };
    const { spans } = await run('0.5', [record]);
    expect(spans.filter((s) => s.name === 'in process').map((s) => s.spanContext().traceId)).toEqual([UNKEPT_TRACE]);
  });

  it('asks the SDK for nothing for a record it does not sample', async () => {
    const getTracer = vi.spyOn(trace, 'getTracer');
    const unsampled = sourceRecord(1, sample(1));
    unsampled.headers = { traceparent: Buffer.from(`00-${UNKEPT_TRACE}-b7ad6b7169203331-00`) };
    const { spans } = await run('0', [sourceRecord(0, sample(0)), unsampled]);
    expect(spans).toEqual([]);
    expect(getTracer).not.toHaveBeenCalled();
  });

  it("follows a plain traceparent's flag, string or Buffer, and takes an all-zero id for no parent, as the W3C propagator does", async () => {
    const records = [0, 1, 2, 3].map((i) => sourceRecord(i, sample(i)));
    records[0]!.headers = { traceparent: `00-${UNKEPT_TRACE}-b7ad6b7169203331-01` };
    records[1]!.headers = { traceparent: Buffer.from(`00-${UNKEPT_TRACE}-c7ad6b7169203331-03`) };
    // Invalid parents: the record is a new root, which ratio 0 does not keep.
    records[2]!.headers = { traceparent: Buffer.from(`00-${'0'.repeat(32)}-b7ad6b7169203331-01`) };
    records[3]!.headers = { traceparent: `00-${UNKEPT_TRACE}-${'0'.repeat(16)}-01` };
    const { spans } = await run('0', records);
    const processes = spans.filter((s) => s.name === 'in process');
    expect(processes.map((s) => [s.spanContext().traceId, s.parentSpanContext?.spanId])).toEqual([
      [UNKEPT_TRACE, 'b7ad6b7169203331'],
      [UNKEPT_TRACE, 'c7ad6b7169203331'],
    ]);
  });

  it('traces an invalid header\'s record as a new root the ratio keeps, and follows a valid one however its fields sit', async () => {
    const tp = (trace: string, flags: string) => `00-${trace}-b7ad6b7169203331-${flags}`;
    const headers = [
      { traceparent: Buffer.from(tp(UNKEPT_TRACE, '00')) }, // valid, unsampled: not traced
      { traceparent: Buffer.from(tp('0'.repeat(32), '00')) }, // invalid: a new root, kept at ratio 1
      { traceparent: ` ${tp(UNKEPT_TRACE, '01')}` }, // the propagator allows one leading space: sampled
      { traceparent: ` ${tp(UNKEPT_TRACE, '00')}` }, // and unsampled
      { traceparent: Buffer.from(tp(UNKEPT_TRACE, '0a')) }, // flags 0x0a: unsampled
      { traceparent: Buffer.from(tp(UNKEPT_TRACE, '0b')) }, // flags 0x0b: sampled
    ];
    const records = headers.map((h, i) => Object.assign(sourceRecord(i, sample(i)), { headers: h }));
    const { spans } = await run('1', records);
    const processes = spans.filter((s) => s.name === 'in process').map((s) => ({ offset: s.attributes['messaging.kafka.offset'], trace: s.spanContext().traceId, parent: s.parentSpanContext?.spanId }));
    expect(processes.map((p) => p.offset).sort()).toEqual([1, 2, 5]);
    const byOffset = new Map(processes.map((p) => [p.offset, p]));
    expect(byOffset.get(1)!.parent).toBeUndefined();
    expect(byOffset.get(1)!.trace).not.toBe('0'.repeat(32));
    expect(byOffset.get(2)).toMatchObject({ trace: UNKEPT_TRACE, parent: 'b7ad6b7169203331' });
    expect(byOffset.get(5)).toMatchObject({ trace: UNKEPT_TRACE, parent: 'b7ad6b7169203331' });
  });
});
