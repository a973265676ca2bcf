import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { BusyShare } from '../../src/telemetry/busy-share.js';
import { LocalAggregates } from '../../src/telemetry/local-aggregates.js';
import { createPipelineMetrics, type EngineRef } from '../../src/telemetry/pipeline-metrics.js';

class TestReader extends MetricReader {
  protected onShutdown = () => Promise.resolve();
  protected onForceFlush = () => Promise.resolve();
}

const valueOf = (collected: ResourceMetrics, name: string): number | undefined => {
  const metric = collected.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  const point = metric?.dataPoints[0];
  return point === undefined ? undefined : (point.value as number);
};

describe('BusyShare', () => {
  it('counts a worker busy once however many calls run on it', () => {
    const busy = new BusyShare(1, 0);
    // Continuous batching: four one-task calls at once for 10 ms, then 10 ms idle.
    for (let i = 0; i < 4; i++) busy.started(0);
    for (let i = 0; i < 4; i++) busy.ended(10);
    expect(busy.share(20)).toBe(0.5);
    expect(busy.busyWorkerMs(20)).toBe(10);
  });

  it('averages over workers: calls in flight up to the workers are busy ones', () => {
    const busy = new BusyShare(4, 0);
    busy.started(0); // one worker busy 0..100
    busy.started(50); // a second 50..100
    busy.ended(100);
    busy.ended(100);
    // (100 + 50) worker-ms over 4 workers x 100 ms.
    expect(busy.share(100)).toBe(0.375);
    // Six calls on four workers: all four busy, no more.
    for (let i = 0; i < 6; i++) busy.started(100);
    for (let i = 0; i < 6; i++) busy.ended(200);
    expect(busy.share(200)).toBe((150 + 400) / 800);
  });

  it('has no share before time has passed, and ignores an end with nothing running', () => {
    const busy = new BusyShare(2, 5);
    expect(busy.share(5)).toBeUndefined();
    busy.ended(6);
    expect(busy.share(7)).toBe(0);
  });
});

describe('teacherlm.engine.utilization', () => {
  it('is the busy worker share with continuous batching, not the sum of overlapping calls', async () => {
    let clock = 1_000;
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const metrics = createPipelineMetrics(provider.getMeter('t'), new LocalAggregates('t'), { now: () => clock });
    // One worker running 16 rows: a call per task.
    const engine: EngineRef = { key: 'onnx:m', modelId: 'm', concurrency: 1 };
    metrics.observe({ inFlight: () => 0, lagByPartition: () => [] }, [engine]);
    for (let i = 0; i < 16; i++) metrics.engineStarted(engine);
    clock += 250;
    for (let i = 0; i < 16; i++) metrics.engineCall(engine, 250, [{ promptTokens: 3, generatedTokens: 2 }]);
    clock += 750;
    const { resourceMetrics } = await reader.collect();
    // Summing the calls gave 16 x 250 ms over 1 s: 4, shown as 1.
    expect(valueOf(resourceMetrics, 'teacherlm.engine.utilization')).toBe(0.25);
    expect(valueOf(resourceMetrics, 'teacherlm.engine.busy.time')).toBe(0.25);
    await provider.shutdown();
  });
});
