import type { Attributes } from '@opentelemetry/api';
import { MetricReader, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { parseTopology } from '../../src/pipeline/topology.js';
import { EchoTeacher } from '../../src/teacher/echo-teacher.js';
import type { GenerationRequest, GenerationResult, TextGenerator } from '../../src/teacher/types.js';
import { startMetrics } from '../../src/telemetry/metrics-setup.js';
import { NOOP_PIPELINE_METRICS } from '../../src/telemetry/pipeline-metrics.js';
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
