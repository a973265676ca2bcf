/**
 * `npx tsx bench/otlp-encode.bench.ts [--records N] [--rounds N] [--batch N]`: the OTLP
 * protobuf encoding of the pipeline's own spans, the project's encoder
 * (src/telemetry/otlp-trace-encoder.ts) against the SDK's `ProtobufTraceSerializer`, in
 * one run. The spans are real: the echo pipeline core (bench/echo-runs.ts's runCoreOnce)
 * runs `--records` records with every sample traced, and its spans (process, stages,
 * engine batches) are kept. Each round encodes all of them in batches of `--batch` (the
 * batch processor's export size) with each encoder, in turn; prints the medians of µs
 * per span, the ratio, and whether the bytes were equal.
 */
import { parseArgs } from 'node:util';
import { ExportResultCode } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BatchSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createGenerators } from '../src/pipeline/generators.js';
import { loadTopology } from '../src/pipeline/topology.js';
import { SPAN_BATCH_DEFAULTS } from '../src/telemetry/config.js';
import { OtlpTraceEncoder } from '../src/telemetry/otlp-trace-encoder.js';
import { startTelemetry } from '../src/telemetry/setup.js';
import { runCoreOnce } from './echo-runs.js';
import { median } from './telemetry-configs.js';

const { values: v } = parseArgs({ options: { records: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '15' }, batch: { type: 'string', default: '4096' } } });
const records = Number(v.records);
const rounds = Number(v.rounds);
const batchSize = Number(v.batch);
for (const [name, n] of [['records', records], ['rounds', rounds], ['batch', batchSize]] as const) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got '${v[name]}'`);
}

const kept: ReadableSpan[] = [];
const telemetry = startTelemetry({
  spanProcessors: [new BatchSpanProcessor({ export: (spans, done) => (kept.push(...spans), done({ code: ExportResultCode.SUCCESS })), shutdown: async () => {} }, { ...SPAN_BATCH_DEFAULTS })],
  env: { OTEL_TRACES_SAMPLER: 'always_on' },
});
const topology = loadTopology('topologies/echo.yaml');
const generators = await createGenerators(topology);
const values = Array.from({ length: records }, (_, i) => Buffer.from(JSON.stringify({ id: `s${i}`, task: 'CREAK', question: `Is ${i} even? (A) True (B) False`, answer: '(A)' })));
await runCoreOnce(topology, generators, values);
await telemetry.shutdown();
for (const g of generators.values()) await g.close();

const batches: ReadableSpan[][] = [];
for (let i = 0; i < kept.length; i += batchSize) batches.push(kept.slice(i, i + batchSize));
const encoder = new OtlpTraceEncoder();
const encoders = {
  ours: (spans: ReadableSpan[]) => encoder.encode(spans),
  sdk: (spans: ReadableSpan[]) => ProtobufTraceSerializer.serializeRequest(spans)!,
};
const sameBytes = batches.every((b) => Buffer.from(encoders.ours(b)).equals(Buffer.from(encoders.sdk(b))));
const times: Record<keyof typeof encoders, number[]> = { ours: [], sdk: [] };
let bytes = 0;
for (let r = 0; r < rounds + 2; r++) {
  const order = (r % 2 === 0 ? ['ours', 'sdk'] : ['sdk', 'ours']) as (keyof typeof encoders)[];
  for (const name of order) {
    const t0 = process.cpuUsage();
    for (const b of batches) bytes += encoders[name](b).length;
    const cpu = process.cpuUsage(t0);
    // The first two rounds warm both up (JIT) and are not counted.
    if (r >= 2) times[name].push((cpu.user + cpu.system) / kept.length);
  }
}
const ours = median(times.ours);
const sdk = median(times.sdk);
console.log(
  JSON.stringify(
    {
      spans: kept.length,
      spansPerRecord: Math.round((kept.length / records) * 100) / 100,
      batches: batches.length,
      sameBytes,
      microsPerSpan: { ours: Math.round(ours * 1000) / 1000, sdk: Math.round(sdk * 1000) / 1000 },
      sdkOverOurs: Math.round((sdk / ours) * 100) / 100,
      bytesPerSpan: Math.round(bytes / (2 * (rounds + 2)) / kept.length),
    },
    null,
    2,
  ),
);
