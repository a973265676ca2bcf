/**
 * `npx tsx bench/tracing-core.bench.ts [--records N] [--rounds N] [--parts tracing|metrics|both]`:
 * the pipeline core alone (in-memory source and sink, echo topology, no Kafka) with
 * telemetry off and on (default: tracing), alternated in one run, on the sampler the
 * environment sets (OTEL_TRACES_SAMPLER, _ARG). Spans go through the batch processor
 * `teacherlm run` configures to an exporter that serializes them to OTLP protobuf and drops
 * the bytes; metrics through a periodic reader (1 s) whose exporter drops them. Prints CPU µs
 * per record for each, and spans per record.
 */
import { parseArgs } from 'node:util';
import { ExportResultCode } from '@opentelemetry/core';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Subject } from 'rxjs';
import { createGenerators } from '../src/pipeline/generators.js';
import { runPipeline } from '../src/pipeline/pipeline.js';
import type { RecordSink, RecordSource, SourceRecord } from '../src/pipeline/ports.js';
import { loadTopology } from '../src/pipeline/topology.js';
import { SPAN_BATCH_DEFAULTS } from '../src/telemetry/config.js';
import { startMetrics } from '../src/telemetry/metrics-setup.js';
import { startTelemetry } from '../src/telemetry/setup.js';

const { values: v } = parseArgs({ options: { records: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' }, parts: { type: 'string', default: 'tracing' } } });
if (!['tracing', 'metrics', 'both'].includes(v.parts!)) throw new Error(`--parts: expected tracing, metrics or both, got ${v.parts}`);
const n = Number(v.records);
const topology = loadTopology('topologies/echo.yaml');
const generators = await createGenerators(topology);
const values = Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify({ id: `s${i}`, task: 'CREAK', question: `Is ${i} even? (A) True (B) False`, answer: '(A)' })));
let spans = 0;
const drop: SpanExporter = {
  export: (batch, done) => {
    spans += batch.length;
    ProtobufTraceSerializer.serializeRequest(batch);
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: async () => {},
};

async function round(traced: boolean): Promise<{ cpuMicrosPerRecord: number; spansPerRecord: number }> {
  const env = { OTEL_TRACES_SAMPLER: process.env.OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG: process.env.OTEL_TRACES_SAMPLER_ARG };
  const telemetry = traced && v.parts !== 'metrics' ? startTelemetry({ spanProcessors: [new BatchSpanProcessor(drop, { ...SPAN_BATCH_DEFAULTS })], env }) : undefined;
  const dropMetrics = { export: (_m: unknown, done: (r: { code: ExportResultCode }) => void) => done({ code: ExportResultCode.SUCCESS }), forceFlush: async () => {}, shutdown: async () => {} };
  const metrics =
    traced && v.parts !== 'tracing'
      ? startMetrics({ readers: (metricProducers) => [new PeriodicExportingMetricReader({ exporter: dropMetrics, exportIntervalMillis: 1_000, metricProducers })], env: {} })
      : undefined;
  const before = spans;
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
  const cpu = process.cpuUsage(cpu0);
  await telemetry?.shutdown();
  await metrics?.shutdown();
  return { cpuMicrosPerRecord: (cpu.user + cpu.system) / n, spansPerRecord: (spans - before) / n };
}

const off: number[] = [];
const on: number[] = [];
let spansPerRecord = 0;
for (let r = 0; r < Number(v.rounds); r++) {
  off.push((await round(false)).cpuMicrosPerRecord);
  const traced = await round(true);
  on.push(traced.cpuMicrosPerRecord);
  spansPerRecord = traced.spansPerRecord;
}
for (const g of generators.values()) await g.close();
const best = (xs: number[]) => Math.min(...xs);
console.log(
  JSON.stringify({
    records: n,
    parts: v.parts,
    sampler: process.env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
    samplerArg: process.env.OTEL_TRACES_SAMPLER_ARG,
    spansPerRecord: Number(spansPerRecord.toFixed(3)),
    offCpuMicrosPerRecord: off.map((x) => Number(x.toFixed(1))),
    onCpuMicrosPerRecord: on.map((x) => Number(x.toFixed(1))),
    addedCpuMicrosPerRecord: Number((best(on) - best(off)).toFixed(1)),
  }),
);
