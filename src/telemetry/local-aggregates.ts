/**
 * Counters and histograms for the per-record hot path, aggregated in plain JS and handed
 * to the OpenTelemetry readers as a MetricProducer at each collection. The SDK's own
 * instruments hash the attributes of every call (some microseconds each), which on the
 * echo pipeline (about 60 us of CPU per record) would cost a large share of throughput; here a
 * record is an array index and two additions, and each series' attributes are fixed
 * once when the series is created.
 *
 * Exported cumulatively, as the SDK's instruments are, under the same scope.
 */
import { type Attributes, ValueType } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { emptyResource } from '@opentelemetry/resources';

type HrTime = [number, number];
const hrNow = (): HrTime => {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
};

interface Descriptor {
  name: string;
  description: string;
  unit: string;
}

/** One attribute set of a counter: `add` is all the hot path does. */
export interface CounterSeries {
  add(value: number): void;
}

/** One attribute set of a histogram. */
export interface HistogramSeries {
  /** `count` observations of `value` (default 1): one bucket search for all of them. */
  record(value: number, count?: number): void;
}

/** One counter series; the hot path calls `add` on it directly (one class: monomorphic, inlined). */
class CounterState implements CounterSeries {
  value = 0;
  constructor(readonly attributes: Attributes) {}
  add(value: number): void {
    this.value += value;
  }
}

/** One histogram series: explicit buckets, sum, count, min and max, as the SDK's histogram aggregates them. */
class HistogramState implements HistogramSeries {
  readonly counts: number[];
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;
  constructor(
    readonly attributes: Attributes,
    private readonly boundaries: readonly number[],
  ) {
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
  }

  record(value: number, count = 1): void {
    const boundaries = this.boundaries;
    let i = 0;
    while (i < boundaries.length && value > (boundaries[i] as number)) i++;
    (this.counts[i] as number) += count;
    // Added one by one, so the sum is the one `count` separate calls would make.
    let sum = this.sum;
    for (let k = 0; k < count; k++) sum += value;
    this.sum = sum;
    this.count += count;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }
}

export class LocalAggregates implements MetricProducer {
  private readonly startTime = hrNow();
  private readonly counters: { descriptor: Descriptor; series: Map<string, CounterState> }[] = [];
  private readonly histograms: { descriptor: Descriptor; boundaries: number[]; series: Map<string, HistogramState> }[] = [];

  constructor(private readonly scopeName: string) {}

  /** A counter; `series(key, attributes)` gives the handle for one attribute set (created once per key). */
  counter(descriptor: Descriptor): (key: string, attributes: Attributes) => CounterSeries {
    const series = new Map<string, CounterState>();
    this.counters.push({ descriptor, series });
    return (key, attributes) => {
      let state = series.get(key);
      if (!state) series.set(key, (state = new CounterState(attributes)));
      return state;
    };
  }

  histogram(descriptor: Descriptor, boundaries: number[]): (key: string, attributes: Attributes) => HistogramSeries {
    const series = new Map<string, HistogramState>();
    this.histograms.push({ descriptor, boundaries, series });
    return (key, attributes) => {
      let state = series.get(key);
      if (!state) series.set(key, (state = new HistogramState(attributes, boundaries)));
      return state;
    };
  }

  collect(): Promise<CollectionResult> {
    const endTime = hrNow();
    const metrics: MetricData[] = [];
    const base = (d: Descriptor) => ({ name: d.name, description: d.description, unit: d.unit, valueType: ValueType.DOUBLE });
    for (const { descriptor, series } of this.counters) {
      if (series.size === 0) continue;
      metrics.push({
        descriptor: base(descriptor),
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: [...series.values()].map((s) => ({ attributes: s.attributes, startTime: this.startTime, endTime, value: s.value })),
      });
    }
    for (const { descriptor, boundaries, series } of this.histograms) {
      if (series.size === 0) continue;
      metrics.push({
        descriptor: base(descriptor),
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: [...series.values()].map((s) => ({
          attributes: s.attributes,
          startTime: this.startTime,
          endTime,
          value: {
            buckets: { boundaries, counts: [...s.counts] },
            sum: s.sum,
            count: s.count,
            ...(s.count > 0 ? { min: s.min, max: s.max } : {}),
          },
        })),
      });
    }
    return Promise.resolve({ resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { name: this.scopeName }, metrics }] }, errors: [] });
  }
}
