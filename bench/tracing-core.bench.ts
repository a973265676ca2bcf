/**
 * `npx tsx bench/tracing-core.bench.ts [--records N] [--rounds N] [--configs metrics,both@0,both@0.01]`:
 * the pipeline core alone (in-memory source and sink, echo topology, no Kafka) with
 * telemetry off and with each configuration on (`metrics`, `tracing@R` or `both@R`, R the
 * `parentbased_traceidratio` ratio), interleaved in one run: every round runs "off" and
 * each configuration once, in a rotated order. Spans go through the batch processor
 * `teacherlm run` configures to an exporter that serializes them to OTLP protobuf and drops
 * the bytes; metrics through a periodic reader (1 s) whose exporter drops them. Prints, per
 * configuration, CPU µs per record in each round, and the median over rounds of the CPU it
 * added to the same round's "off" run, with spans per record.
 */
import { parseArgs } from 'node:util';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Subject } from 'rxjs';
import { createGenerators } from '../src/pipeline/generators.js';
import { runPipeline } from '../src/pipeline/pipeline.js';
import type { RecordSink, RecordSource, SourceRecord } from '../src/pipeline/ports.js';
import { loadTopology } from '../src/pipeline/topology.js';
import { SPAN_BATCH_DEFAULTS } from '../src/telemetry/config.js';
import { startMetrics } from '../src/telemetry/metrics-setup.js';
import { startTelemetry } from '../src/telemetry/setup.js';
import { median, parseTelemetryConfigs, type TelemetryConfig } from './telemetry-configs.js';
import { dropMetrics, dropSpans, exported } from './echo-runs.js';

const { values: v } = parseArgs({ options: { records: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' }, configs: { type: 'string', default: 'metrics,both@0,both@0.01' } } });
const configs = parseTelemetryConfigs(v.configs!);
const n = Number(v.records);
const topology = loadTopology('topologies/echo.yaml');
const generators = await createGenerators(topology);
const values = Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify({ id: `s${i}`, task: 'CREAK', question: `Is ${i} even? (A) True (B) False`, answer: '(A)' })));
async function round(config: TelemetryConfig | undefined): Promise<{ cpuMicrosPerRecord: number; spansPerRecord: number }> {
  const env = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: String(config?.ratio ?? 0) };
  const telemetry = config?.tracing ? startTelemetry({ spanProcessors: [new BatchSpanProcessor(dropSpans(config.encoder), { ...SPAN_BATCH_DEFAULTS })], env }) : undefined;
  const metrics = config?.metrics
    ? startMetrics({ readers: (metricProducers) => [new PeriodicExportingMetricReader({ exporter: dropMetrics, exportIntervalMillis: 1_000, metricProducers })], env: {} })
    : undefined;
  const before = exported.spans;
  const input = new Subject<SourceRecord>();
  const source: RecordSource = { records: () => input, pause: () => {}, resume: () => {}, commit: async () => {}, stop: async () => input.complete(), stats: () => ({ pauses: 0, resumes: 0, consumed: 0 }) };
  const sink: RecordSink = { send: async () => {}, flush: async () => {}, close: async () => {} };
  const handle = runPipeline({ topology: { ...topology, batching: { ...topology.batching, queueLimit: n + 1 } }, source, sink, generators, maxRecords: n, ...(metrics ? { metrics: metrics.pipeline } : {}) });
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    input.next({ topic: 'in', partition: i % 3, offset: String(Math.floor(i / 3)), key: null, value: values[i]!, headers: {}, timestamp: String(Date.now()) });
    if (i % 1_000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  await handle.done;
  await telemetry?.forceFlush();
  await metrics?.forceFlush();
  const cpu = process.cpuUsage(cpu0);
  await telemetry?.shutdown();
  await metrics?.shutdown();
  return { cpuMicrosPerRecord: (cpu.user + cpu.system) / n, spansPerRecord: (exported.spans - before) / n };
}

// A first untimed round of each warms the JIT on every code path.
for (const config of [undefined, ...configs]) await round(config);
const off: number[] = [];
const on = new Map<string, { cpu: number[]; spansPerRecord: number }>(configs.map((c) => [c.label, { cpu: [], spansPerRecord: 0 }]));
const rounds = Number(v.rounds);
for (let r = 0; r < rounds; r++) {
  // Rotated each round, "off" included, so no configuration always follows another.
  const order = [undefined, ...configs];
  for (let i = 0; i < order.length; i++) {
    const config = order[(i + r) % order.length];
    const result = await round(config);
    if (!config) off.push(result.cpuMicrosPerRecord);
    else {
      const entry = on.get(config.label)!;
      entry.cpu.push(result.cpuMicrosPerRecord);
      entry.spansPerRecord = result.spansPerRecord;
    }
  }
}
for (const g of generators.values()) await g.close();
const fixed = (x: number, digits = 2) => Number(x.toFixed(digits));
console.log(
  JSON.stringify({
    records: n,
    rounds,
    offCpuMicrosPerRecord: off.map((x) => fixed(x, 1)),
    offMedian: fixed(median(off)),
    configs: configs.map((c) => {
      const { cpu, spansPerRecord } = on.get(c.label)!;
      return {
        config: c.label,
        spansPerRecord: fixed(spansPerRecord, 3),
        cpuMicrosPerRecord: cpu.map((x) => fixed(x, 1)),
        // Each round against that round's "off": steadier than a difference of two medians.
        addedCpuMicrosPerRecordMedian: fixed(median(cpu.map((x, i) => x - off[i]!))),
        cpuRatioMedian: fixed(median(cpu.map((x, i) => x / off[i]!)), 3),
        // The least disturbed round of each: a peer figure less swayed by the machine's other load.
        addedCpuMicrosPerRecordBest: fixed(Math.min(...cpu) - Math.min(...off)),
      };
    }),
  }),
);
