import type { Attributes } from '@opentelemetry/api';
import { type Histogram, MeterProvider, MetricReader, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { parseTopology } from '../../src/pipeline/topology.js';
import { EchoTeacher } from '../../src/teacher/echo-teacher.js';
import type { GenerationRequest, GenerationResult, TextGenerator } from '../../src/teacher/types.js';
import { startMetrics } from '../../src/telemetry/metrics-setup.js';
import { LocalAggregates } from '../../src/telemetry/local-aggregates.js';
import { createPipelineMetrics, epochMsOf, NOOP_PIPELINE_METRICS, Runs, type EngineRef, type QueuedTask } from '../../src/telemetry/pipeline-metrics.js';
import { sourceRecord } from '../pipeline/fakes.js';
import { MemorySink, MemorySource } from '../pipeline/memory-ports.js';

/** A pull reader the test collects from when it likes. */
class TestReader extends MetricReader {
  protected onShutdown = () => Promise.resolve();
  protected onForceFlush = () => Promise.resolve();
}

/** Echo, taking 2 ms a call, counting its calls. */
class SlowEcho implements TextGenerator {
  readonly inner = new EchoTeacher({ concurrency: 2 });
  readonly modelId = this.inner.modelId;
  readonly concurrency = this.inner.concurrency;
  calls = 0;
  countTokens = (prompt: string) => this.inner.countTokens(prompt);
  async generate(requests: GenerationRequest[]): Promise<GenerationResult[]> {
    this.calls++;
    await new Promise((r) => setTimeout(r, 2));
    return this.inner.generate(requests);
  }
  close = () => this.inner.close();
}

const metricOf = (collected: ResourceMetrics, name: string): MetricData | undefined =>
  collected.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);

function total(collected: ResourceMetrics, name: string, where: Attributes = {}): number {
  const metric = metricOf(collected, name);
  return (metric?.dataPoints ?? [])
    .filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count), 0);
}

describe('pipeline metrics', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('counts batches, tasks, dead letters and writes of a known workload', async () => {
    let reader!: TestReader;
    const metrics = startMetrics({ readers: (metricProducers) => [(reader = new TestReader({ metricProducers }))], env: {} });
    const records = Array.from({ length: 30 }, (_, i) =>
      sourceRecord(Math.floor(i / 3), i % 10 === 9 ? 'not json' : JSON.stringify({ id: `s${i}`, task: 'CREAK', question: `Q${i}?`, answer: '(A)' }), i % 3),
    );
    const engine = new SlowEcho();
    const handle = runPipeline({
      topology: parseTopology({
        input: { topic: 'in' },
        output: { topic: 'out' },
        deadLetter: { topic: 'dlq' },
        consumer: { group: 'g' },
        teachers: ['fundamentals', 'cot'].map((annotation) => ({ annotation, kind: 'echo' })),
        batching: { maxBatchSize: 4, maxWaitMs: 2, queueLimit: 64 },
      }),
      source: new MemorySource(records),
      sink: new MemorySink({ delayMs: 1 }),
      generators: new Map([['echo', engine]]),
      maxRecords: 30,
      commitIntervalMs: 5,
      metrics: metrics.pipeline,
    });
    let settled = false;
    void handle.done.finally(() => (settled = true));
    while (!settled) await vi.advanceTimersByTimeAsync(1);
    await handle.done;

    const { resourceMetrics: collected } = await reader.collect();
    expect(total(collected, 'teacherlm.engine.batch.size')).toBe(engine.calls);
    expect(total(collected, 'teacherlm.engine.queue.duration')).toBe(2 * 27);
    expect(total(collected, 'teacherlm.engine.queue.depth')).toBe(0);
    expect(total(collected, 'teacherlm.dead_letters', { 'error.type': 'DECODE_FAILED' })).toBe(3);
    expect(total(collected, 'teacherlm.records.written', { 'teacherlm.outcome': 'augmented' })).toBe(27);
    expect(total(collected, 'teacherlm.records.in_flight')).toBe(0);
    expect(total(collected, 'messaging.process.duration')).toBe(30);
    expect(total(collected, 'gen_ai.server.request.duration')).toBe(engine.calls);
    const busy = total(collected, 'teacherlm.engine.utilization');
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThanOrEqual(1);
    await metrics.shutdown();
  });

  it('is the no-op when nothing asks for metrics', () => {
    const metrics = startMetrics({ env: {} });
    expect(metrics.enabled).toBe(false);
    expect(metrics.pipeline).toBe(NOOP_PIPELINE_METRICS);
  });
});

describe('per-batch aggregation', () => {
  it('Runs makes one update per run of equal values, with the counts of one update per item', () => {
    const calls: [number, number | undefined][] = [];
    const runs = new Runs({ record: (value, count) => void calls.push([value, count]) });
    for (const x of [3, 3, 5, 3, 3, 3]) runs.add(x);
    runs.end();
    expect(calls).toEqual([
      [3, 2],
      [5, 1],
      [3, 3],
    ]);
    // A new batch starts a new run, even of the same value; an empty one records nothing.
    runs.add(3);
    runs.end();
    runs.end();
    expect(calls).toEqual([
      [3, 2],
      [5, 1],
      [3, 3],
      [3, 1],
    ]);
  });

  it("a batch's queue times are every task's own, however its tasks are grouped", async () => {
    let clock = 100;
    const local = new LocalAggregates('t');
    const metrics = createPipelineMetrics(new MeterProvider().getMeter('t'), local, { now: () => clock });
    const engine: EngineRef = { key: 'echo', modelId: 'echo', concurrency: 1 };
    const jobs: object[] = [{}, {}, {}];
    const tasks: QueuedTask[] = [];
    // Job 0's three tasks at 100 ms, job 1's two at 104 ms, job 2's one at 110 ms.
    for (const [job, n, at] of [[jobs[0]!, 3, 100], [jobs[1]!, 2, 104], [jobs[2]!, 1, 110]] as const) {
      clock = at;
      for (let i = 0; i < n; i++) {
        const task = { job };
        metrics.queued(engine, task);
        tasks.push(task);
      }
    }
    clock = 120;
    // Interleaved, as a batch may hold them; one task (already started) has no queue time.
    const batch = [tasks[0]!, tasks[3]!, tasks[1]!, tasks[2]!, tasks[4]!, tasks[5]!, { job: {} }];
    metrics.batchStarted(engine, batch);
    const { resourceMetrics } = await local.collect();
    const queue = resourceMetrics.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === 'teacherlm.engine.queue.duration')!;
    const value = queue.dataPoints[0]!.value as Histogram;
    expect(value.count).toBe(6);
    expect(value.sum).toBeCloseTo(3 * 0.02 + 2 * 0.016 + 0.01, 12);
    expect(value.min).toBeCloseTo(0.01, 12);
    expect(value.max).toBeCloseTo(0.02, 12);
    expect(batch.every((t) => t.queuedAt === undefined)).toBe(true);
  });
});

describe('epochMsOf', () => {
  it('reads a timestamp exactly as Number does, digits or not', () => {
    const inputs = ['0', '7', '1764633600123', '000123', '999999999999999', '9007199254740993', '1234567890123456', '', ' 12', '12 ', '-5', '+5', '1e3', '0x10', '12.5', 'abc', '١٢'];
    for (const input of inputs) expect(epochMsOf(input), input).toBe(Number(input));
    for (let i = 0; i < 1000; i++) {
      const ms = String(Math.floor(Math.random() * 10 ** (1 + (i % 15))));
      expect(epochMsOf(ms), ms).toBe(Number(ms));
    }
  });
});
