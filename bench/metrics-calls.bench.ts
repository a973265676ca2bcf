/**
 * `npx tsx bench/metrics-calls.bench.ts [--rounds N]`: the pipeline metrics' calls for
 * echo-like records in a loop, without the pipeline: per record `consumed`, three tasks
 * `queued`, its share of a 246-task batch's `batchStarted`, `engineStarted` and
 * `engineCall`, and `written`. The same loop with the no-op metrics runs in the same
 * rounds, alternated, as its peer; prints CPU µs per record of each and the median of the
 * rounds' differences: what the metrics' own code costs a record.
 */
import { parseArgs } from 'node:util';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { LocalAggregates } from '../src/telemetry/local-aggregates.js';
import { createPipelineMetrics, NOOP_PIPELINE_METRICS, type EngineRef, type PipelineMetrics } from '../src/telemetry/pipeline-metrics.js';
import { median } from './telemetry-configs.js';

const { values: v } = parseArgs({ options: { rounds: { type: 'string', default: '9' } } });
const engine: EngineRef = { key: 'echo', modelId: 'echo', concurrency: 4 };
const perBatch = 82;

function loop(metrics: PipelineMetrics, batches: number): number {
  const cpu0 = process.cpuUsage();
  for (let b = 0; b < batches; b++) {
    const tasks: { job: object; queuedAt?: number }[] = [];
    const records = [];
    for (let i = 0; i < perBatch; i++) {
      const record = { topic: 'in', partition: i % 3, offset: String(i), timestamp: String(Date.now() - 5) };
      records.push(record);
      metrics.consumed(record);
      const job = {};
      for (let k = 0; k < 3; k++) {
        const task = { job };
        metrics.queued(engine, task);
        tasks.push(task);
      }
    }
    metrics.batchStarted(engine, tasks);
    metrics.engineStarted(engine);
    metrics.engineCall(engine, 2, tasks.map((_, i) => ({ promptTokens: 18 + (i % 3), generatedTokens: 19 })));
    const clock = metrics.ackClock();
    for (const r of records) metrics.written(r, performance.now() - 3, 'augmented', clock);
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / (batches * perBatch);
}

const on = createPipelineMetrics(new MeterProvider().getMeter('bench'), new LocalAggregates('bench'));
loop(on, 2_000);
loop(NOOP_PIPELINE_METRICS, 2_000);
const offs: number[] = [];
const ons: number[] = [];
for (let r = 0; r < Number(v.rounds); r++) {
  offs.push(loop(NOOP_PIPELINE_METRICS, 3_000));
  ons.push(loop(on, 3_000));
}
const fixed = (x: number) => Number(x.toFixed(3));
console.log(
  JSON.stringify({
    recordsPerRound: 3_000 * perBatch,
    noopCpuMicrosPerRecord: offs.map(fixed),
    metricsCpuMicrosPerRecord: ons.map(fixed),
    metricsCallsMicrosPerRecordMedian: fixed(median(ons.map((x, i) => x - offs[i]!))),
  }),
);
