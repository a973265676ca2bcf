import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { type ReadableSpan, RandomIdGenerator } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { SampleTracing } from '../../src/pipeline/sample-tracing.js';
import { TraceSampling } from '../../src/telemetry/trace-sampling.js';
import { parseTopology, type Topology } from '../../src/pipeline/topology.js';
import { EchoTeacher } from '../../src/teacher/echo-teacher.js';
import { inMemoryTracing } from '../support/in-memory-tracing.js';
import { sourceRecord, tasks } from './fakes.js';
import { MemorySink, MemorySource } from './memory-ports.js';

const PRODUCER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const PRODUCER_SPAN = 'b7ad6b7169203331';

function topology(patch: Record<string, unknown> = {}): Topology {
  return parseTopology({
    input: { topic: 'in' },
    output: { topic: 'out' },
    deadLetter: { topic: 'dlq' },
    consumer: { group: 'g' },
    teachers: ['fundamentals', 'cot'].map((annotation) => ({ annotation, kind: 'echo', generation: { maxNewTokens: 3 } })),
    batching: { maxBatchSize: 8, maxWaitMs: 1, queueLimit: 64 },
    ...patch,
  });
}

const sample = (id: string) => JSON.stringify({ id, task: 'CREAK', question: `Is ${id} fine? (A) True (B) False`, answer: '(A)' });

function traced(offset: number, value: string, flags = '01') {
  const record = sourceRecord(offset, value);
  record.headers = { traceparent: Buffer.from(`00-${PRODUCER_TRACE}-${PRODUCER_SPAN.slice(0, 15)}${offset}-${flags}`) };
  return record;
}

async function run(records: ReturnType<typeof sourceRecord>[], options: { tracing?: boolean; patch?: Record<string, unknown> } = {}) {
  const source = new MemorySource(records);
  const sink = new MemorySink();
  const handle = runPipeline({
    topology: topology(options.patch),
    source,
    sink,
    generators: new Map([['echo', new EchoTeacher()]]),
    maxRecords: records.length,
    ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
  });
  await handle.done;
  return sink;
}

const stageOf = (s: ReadableSpan) => s.attributes['teacherlm.stage'];
const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) => spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

describe('sample tracing in the pipeline', () => {
  const exporter = inMemoryTracing();

  it("builds each sample's stage spans under its process span, in its producer's trace", async () => {
    const sink = await run([traced(0, sample('a')), traced(1, 'not json')]);
    const spans = exporter.getFinishedSpans();
    const processes = spans.filter((s) => s.name === 'in process');
    expect(processes).toHaveLength(2);
    for (const p of processes) {
      expect(p.kind).toBe(SpanKind.CONSUMER);
      expect(p.spanContext().traceId).toBe(PRODUCER_TRACE);
      expect(p.parentSpanContext?.spanId.startsWith(PRODUCER_SPAN.slice(0, 15))).toBe(true);
    }
    const [valid, malformed] = [0, 1].map((o) => processes.find((p) => p.attributes['messaging.kafka.offset'] === o)!);
    // Its children: one span per stage (and the engine calls' batch spans, below).
    const stages = (p: ReadableSpan) => childrenOf(spans, p).filter((s) => s.name !== 'teacherlm generate').map(stageOf).sort();
    expect(stages(valid!)).toEqual(['commit', 'consume', 'decode', 'encode', 'inference', 'inference', 'produce', 'queue', 'queue'].sort());
    expect(stages(malformed!)).toEqual(['commit', 'consume', 'decode', 'encode', 'produce']);
    expect(malformed!.attributes['error.type']).toBe('DECODE_FAILED');
    expect(valid!.attributes['teacherlm.outcome']).toBe('augmented');

    // Stage spans nest in time inside the process span, in pipeline order.
    const startOf = (s: ReadableSpan) => s.startTime[0] * 1e9 + s.startTime[1];
    const endOf = (s: ReadableSpan) => s.endTime[0] * 1e9 + s.endTime[1];
    const children = childrenOf(spans, valid!);
    const at = (stage: string) => children.find((s) => stageOf(s) === stage)!;
    expect(endOf(at('decode'))).toBeLessThanOrEqual(startOf(at('queue')) + 1e3);
    expect(endOf(at('encode'))).toBeLessThanOrEqual(startOf(at('produce')) + 1e3);
    expect(endOf(at('commit'))).toBeLessThanOrEqual(endOf(valid!));

    // One batch span per engine call: child of the sample's process span, linked to it, linked from its inference spans.
    const batches = spans.filter((s) => s.name === 'teacherlm generate');
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) {
      expect(b.parentSpanContext?.spanId).toBe(valid!.spanContext().spanId);
      expect(b.links.map((l) => l.context.spanId)).toEqual([valid!.spanContext().spanId]);
      expect(b.attributes).toMatchObject({ 'gen_ai.request.model': 'echo', 'teacherlm.device': 'cpu' });
      expect(b.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(b.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    }
    const batchIds = new Set(batches.map((b) => b.spanContext().spanId));
    for (const inference of children.filter((s) => stageOf(s) === 'inference')) {
      expect(batchIds.has(inference.links[0]!.context.spanId)).toBe(true);
    }

    // The outputs carry the process span's context.
    for (const out of sink.records) {
      const [, traceId, spanId] = String(out.headers.traceparent).split('-');
      expect(traceId).toBe(PRODUCER_TRACE);
      expect(processes.map((p) => p.spanContext().spanId)).toContain(spanId);
    }
  });

  it('adds a gate span per annotation when the topology has a quality gate', async () => {
    await run([traced(0, sample('g'))], { patch: { quality: { onFailure: 'keep' } } });
    const spans = exporter.getFinishedSpans();
    const process = spans.find((s) => s.name === 'in process')!;
    expect(childrenOf(spans, process).filter((s) => stageOf(s) === 'gate')).toHaveLength(2);
  });

  it("carries the producer's tracestate on, and names the process span in the output's traceparent", async () => {
    const withState = traced(0, sample('s'));
    withState.headers.tracestate = 'vendor=opaque';
    const plain = traced(1, sample('p'));
    const sink = await run([withState, plain]);
    const processes = exporter.getFinishedSpans().filter((s) => s.name === 'in process');
    const spanOf = (offset: number) => processes.find((p) => p.attributes['messaging.kafka.offset'] === offset)!.spanContext().spanId;
    // The outputs' order is not the inputs'; the one with a tracestate is the first input's.
    const byState = (has: boolean) => sink.records.find((r) => (r.headers.tracestate !== undefined) === has)!;
    const out = (id: string) => byState(id === 's');
    expect(sink.records).toHaveLength(2);
    expect(String(out('s').headers.traceparent)).toBe(`00-${PRODUCER_TRACE}-${spanOf(0)}-01`);
    expect(String(out('s').headers.tracestate)).toBe('vendor=opaque');
    expect(String(out('p').headers.traceparent)).toBe(`00-${PRODUCER_TRACE}-${spanOf(1)}-01`);
  });

  it('records nothing for a sample its producer did not sample, and passes its trace headers on', async () => {
    const sink = await run([traced(0, sample('u'), '00')]);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(String(sink.records[0]!.headers.traceparent)).toBe(`00-${PRODUCER_TRACE}-${PRODUCER_SPAN.slice(0, 15)}0-00`);
  });

  it('does no tracing when told not to, SDK or not', async () => {
    await run([traced(0, sample('off'))], { tracing: false });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('leaves an unsampled record as it came, and stops tracing a record whose trace was abandoned', () => {
    const tracing = new SampleTracing({ maxOpen: 1, sampling: new TraceSampling('parentbased_always_on'), ids: new RandomIdGenerator() });
    const unsampled = traced(0, sample('u'), '00');
    expect(tracing.begin(unsampled)).toBe(unsampled);
    expect(Object.getOwnPropertySymbols(unsampled)).toEqual([]);
    const first = tracing.begin(traced(1, sample('a')));
    expect(tracing.open).toBe(1);
    // A second open trace over maxOpen 1 abandons the first.
    const second = tracing.begin(traced(2, sample('b')));
    expect(tracing.open).toBe(1);
    const abandoned = exporter.getFinishedSpans();
    expect(abandoned.map((s) => [s.attributes['messaging.kafka.offset'], s.attributes['teacherlm.abandoned']])).toEqual([[1, true]]);
    // The first record is still on its way: its hooks now find no trace, and it ends no span of its own again.
    tracing.finished({ kind: 'dead-letter', record: first, value: { errorCode: 'X' } as never });
    tracing.acked([{ record: first, out: { topic: 'out', key: null, value: Buffer.alloc(0), headers: {} }, kind: 'dead-letter' }]);
    tracing.acked([{ record: second, out: { topic: 'out', key: null, value: Buffer.alloc(0), headers: {} }, kind: 'augmented' }]);
    tracing.committing([{ topic: 'in', partition: 0, offset: '3' }])(true);
    const ended = exporter.getFinishedSpans().filter((s) => s.name === 'in process');
    expect(ended.map((s) => s.attributes['messaging.kafka.offset'])).toEqual([1, 2]);
    // The abandoned trace got no stage spans at the commit; the other its full set.
    const all = exporter.getFinishedSpans();
    expect(childrenOf(all, ended[0]!)).toEqual([]);
    expect(childrenOf(all, ended[1]!).map(stageOf).sort()).toEqual(['commit', 'consume', 'decode', 'encode', 'produce']);
    expect(tracing.open).toBe(0);
  });

  it("gives an abandoned trace's queued tasks no batch span, and a batch of untraced tasks none", () => {
    const tracing = new SampleTracing({ maxOpen: 1, sampling: new TraceSampling('parentbased_always_on'), ids: new RandomIdGenerator() });
    const [first, untraced] = tasks('p', 'q');
    first!.job.record = tracing.begin(traced(0, sample('a')));
    untraced!.job = { ...untraced!.job, record: traced(1, sample('u'), '00') };
    tracing.queued(first!);
    tracing.queued(untraced!);
    expect(tracing.batch([untraced!], { modelId: 'echo', device: 'cpu' })).toBeUndefined();
    // A second open trace over maxOpen 1 abandons the first, whose task is still queued.
    tracing.begin(traced(2, sample('b')));
    expect(tracing.batch([first!, untraced!], { modelId: 'echo', device: 'cpu' })).toBeUndefined();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['in process']);
    tracing.close();
  });

  it("marks a failed engine call's batch span failed, with the error as an exception event", () => {
    const tracing = new SampleTracing({ sampling: new TraceSampling('parentbased_always_on'), ids: new RandomIdGenerator() });
    const [task] = tasks('p');
    task!.job.record = tracing.begin(traced(0, sample('f')));
    tracing.queued(task!);
    const batch = tracing.batch([task!], { modelId: 'echo', device: 'cpu' });
    batch!.end(undefined, Object.assign(new Error('worker died'), { code: 'ENGINE_CRASHED' }));
    const [span] = exporter.getFinishedSpans();
    expect(span!.name).toBe('teacherlm generate');
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'worker died' });
    expect(span!.events.map((e) => [e.name, e.attributes?.['exception.type']])).toEqual([['exception', 'ENGINE_CRASHED']]);
    expect(span!.spanContext().traceId).toBe(PRODUCER_TRACE);
    tracing.close();
  });
});
