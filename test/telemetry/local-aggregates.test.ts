import { DataPointType, type Histogram } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { LocalAggregates } from '../../src/telemetry/local-aggregates.js';

async function histogramPoint(local: LocalAggregates, name: string): Promise<Histogram> {
  const { resourceMetrics } = await local.collect();
  const metric = resourceMetrics.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === name)!;
  expect(metric.dataPointType).toBe(DataPointType.HISTOGRAM);
  return metric.dataPoints[0]!.value as Histogram;
}

describe('LocalAggregates', () => {
  const descriptor = { name: 'h', unit: 's', description: 'd' };

  it('records a value n times in one call exactly as n calls do', async () => {
    const once = new LocalAggregates('t');
    const each = new LocalAggregates('t');
    const a = once.histogram(descriptor, [0.001, 0.01, 0.1])('k', {});
    const b = each.histogram(descriptor, [0.001, 0.01, 0.1])('k', {});
    for (const [value, count] of [[0.003, 3], [0.1, 2], [0.7, 1], [0.0001, 5]] as const) {
      a.record(value, count);
      for (let i = 0; i < count; i++) b.record(value);
    }
    const [x, y] = [await histogramPoint(once, 'h'), await histogramPoint(each, 'h')];
    expect(x).toEqual(y);
    expect(x.count).toBe(11);
    // Bounds are inclusive upper limits, as the SDK's explicit buckets: 0.1 falls in (0.01, 0.1].
    expect(x.buckets.counts).toEqual([5, 3, 2, 1]);
    expect(x.min).toBe(0.0001);
    expect(x.max).toBe(0.7);
  });

  it('counts per attribute set, each series made once per key', async () => {
    const local = new LocalAggregates('t');
    const counter = local.counter({ name: 'c', unit: '1', description: 'd' });
    counter('a', { x: 'a' }).add(2);
    counter('a', { x: 'ignored: the series exists' }).add(3);
    counter('b', { x: 'b' }).add(1);
    const { resourceMetrics } = await local.collect();
    const points = resourceMetrics.scopeMetrics[0]!.metrics[0]!.dataPoints.map((p) => [p.attributes, p.value]);
    expect(points).toEqual([
      [{ x: 'a' }, 5],
      [{ x: 'b' }, 1],
    ]);
  });
});
