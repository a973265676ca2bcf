/**
 * `npm run bench:telemetry-profile [-- --records N --rounds N --configs both@0.01 --interval-us N]`:
 * telemetry's own CPU per echo record, from the inspector's CPU profile rather than from
 * the difference of two whole-process runs (which moves by several points between runs
 * on a loaded machine). The echo pipeline (`topologies/echo.yaml`) runs over a produced
 * backlog on the broker when KAFKA_BROKERS is set (the service as `teacherlm run`
 * assembles it, bench/echo-runs.ts), else the pipeline core alone on in-memory records.
 * Every round runs telemetry off and each of `--configs` on (bench/telemetry-configs.ts),
 * in a rotated order, each run under the CPU profiler (node:inspector, sampling every
 * `--interval-us`, default 100), from the run's first record to telemetry's shutdown (the
 * last spans' export included; telemetry's one-off start is left out). Self time is summed by where the code lives
 * (bench/profile-attribution.ts): the OpenTelemetry packages, and the project's
 * telemetry code (a native or built-in function goes with its caller). Prints, per configuration, medians over rounds of µs per record:
 * telemetry's self time (sdk + project), the main thread's profiled CPU, its GC, and the
 * process's CPU; and telemetry's share of the main thread's CPU, with `goal.met` (under 3%)
 * for `--goal` (default both@0.01). "off" must show about 0 telemetry: the check that
 * the attribution finds only telemetry.
 *
 * `--topology FILE` runs another topology's pipeline instead of the echo one, e.g.
 * topologies/default.yaml's SmolLM2 teachers (records: a few dozen). Its teachers run in
 * worker threads, so the main thread is not what bounds throughput there: the goal is
 * then read on telemetry's share of the process's CPU (`telemetryShareOfProcess`, every
 * thread), which the engine's threads compete for. With only echo teachers (on the main
 * thread) it is the main thread's share.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveBrokers } from '../src/kafka/brokers.js';
import { createKafka } from '../src/kafka/client.js';
import { createGenerators } from '../src/pipeline/generators.js';
import { loadTopology } from '../src/pipeline/topology.js';
import { openPipelineService } from '../src/service/pipeline-service.js';
import type { PipelineMetrics } from '../src/telemetry/pipeline-metrics.js';
import { exported, runCoreOnce, startBenchTelemetry, timePipeline } from './echo-runs.js';
import { creakSamples, freshTopology, produceBacklog, producerTraceparent } from './delivery/workload.js';
import { bucketsByNode, selfTimeByBucket, type CpuProfile } from './profile-attribution.js';
import { median, parseTelemetryConfig, parseTelemetryConfigs, type TelemetryConfig } from './telemetry-configs.js';

const { values: v } = parseArgs({
  options: {
    records: { type: 'string', default: '30000' },
    rounds: { type: 'string', default: '3' },
    configs: { type: 'string', default: 'both@0.01' },
    goal: { type: 'string', default: 'both@0.01' },
    'interval-us': { type: 'string', default: '100' },
    /** Also print the N telemetry functions with the most self time in each configuration (stderr). */
    top: { type: 'string', default: '0' },
    /** Also write each profiled run's profile there, as `<config>-<round>.cpuprofile` (DevTools opens them). */
    'save-profiles': { type: 'string' },
    /**
     * Every backlog record carries a producer's `traceparent`, sampled on this share of
     * records (as `teacherlm produce` tracing at that ratio writes them); the pipeline's
     * parent-based sampler then follows those flags whatever the configuration's ratio.
     * Kafka only.
     */
    'producer-traces': { type: 'string' },
    topology: { type: 'string' },
  },
});
const GOAL_SHARE = 0.03;
const n = Number(v.records);
const rounds = Math.max(1, Number(v.rounds));
const configs = parseTelemetryConfigs(v.configs!);
const goal = parseTelemetryConfig(v.goal!).label;
const topology = freshTopology(loadTopology(v.topology ? resolve(v.topology) : join(import.meta.dirname, '..', 'topologies', 'echo.yaml')), 'profile');
/** The share the goal reads: the main thread's where the teachers run on it (echo), else the process's. */
const goalOnProcess = topology.teachers.some((t) => t.kind !== 'echo');
const samples = creakSamples(n);
const useKafka = Boolean(process.env.KAFKA_BROKERS?.trim());
const producerTraces = v['producer-traces'] === undefined ? undefined : Number(v['producer-traces']);
if (producerTraces !== undefined && !(producerTraces >= 0 && producerTraces <= 1)) throw new Error(`--producer-traces: expected a share in [0, 1], got '${v['producer-traces']}'`);
if (producerTraces !== undefined && !useKafka) throw new Error('--producer-traces: needs KAFKA_BROKERS (the in-memory records carry no headers)');

let pipelineRun: (group: string, metrics: PipelineMetrics | undefined) => Promise<unknown>;
let close: () => Promise<void>;
if (useKafka) {
  const brokers = await resolveBrokers({ log: (line) => process.stderr.write(`[kafka] ${line}\n`) });
  const kafka = createKafka({ brokers: brokers.brokers, clientId: 'teacherlm-bench', logLevel: 'error' });
  await produceBacklog(kafka, topology, samples, producerTraces === undefined ? undefined : producerTraceparent(producerTraces));
  const service = await openPipelineService({ kafka, topology });
  pipelineRun = (group, metrics) => timePipeline(service, group, n, undefined, metrics);
  close = async () => {
    await service.close();
    await brokers.stop();
  };
} else {
  const generators = await createGenerators(topology);
  const values = samples.map((s) => Buffer.from(JSON.stringify(s)));
  pipelineRun = (_group, metrics) => runCoreOnce(topology, generators, values, metrics);
  close = async () => {
    for (const g of generators.values()) await g.close();
  };
}

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: Number(v['interval-us']) });

interface Run {
  telemetry: number;
  sdk: number;
  project: number;
  gc: number;
  profiledCpu: number;
  processCpu: number;
  spans: number;
}
let runs = 0;
async function profiledRun(config: TelemetryConfig | undefined, profile: boolean): Promise<Run> {
  const group = `${topology.consumer.group}-${runs++}`;
  // Started outside the profile: its one-off start is no cost of a record.
  const telemetry = config ? startBenchTelemetry(config) : undefined;
  if (profile) await session.post('Profiler.start');
  const spansBefore = exported.spans;
  const cpu0 = process.cpuUsage();
  try {
    await pipelineRun(group, telemetry?.metrics);
  } finally {
    await telemetry?.shutdown();
  }
  const cpu = process.cpuUsage(cpu0);
  const perRecord = (us: number) => us / n;
  const spans = (exported.spans - spansBefore) / n;
  if (!profile) return { telemetry: 0, sdk: 0, project: 0, gc: 0, profiledCpu: 0, processCpu: perRecord(cpu.user + cpu.system), spans };
  const { profile: result } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
  const t = selfTimeByBucket(result);
  if (v['save-profiles']) {
    mkdirSync(v['save-profiles'], { recursive: true });
    writeFileSync(join(v['save-profiles'], `${(config?.label ?? 'off').replace(/[^a-z0-9.]/g, '-')}-${runs}.cpuprofile`), JSON.stringify(result));
  }
  if (Number(v.top) > 0) {
    const lines = telemetryFunctions(result)
      .slice(0, Number(v.top))
      .map(([name, us]) => `  ${(us / n).toFixed(3)} us  ${name}`);
    process.stderr.write(`[bench] ${config?.label ?? 'off'} top telemetry functions:\n${lines.join('\n')}\n`);
  }
  return {
    telemetry: perRecord(t.sdk + t.project),
    sdk: perRecord(t.sdk),
    project: perRecord(t.project),
    gc: perRecord(t.gc),
    profiledCpu: perRecord(t.sdk + t.project + t.gc + t.other),
    processCpu: perRecord(cpu.user + cpu.system),
    spans,
  };
}

/** Telemetry's functions by self time (µs over the run), most first: where to cut. */
function telemetryFunctions(profile: CpuProfile): [string, number][] {
  const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples?.length ?? 0);
  const byName = new Map<string, number>();
  const buckets = bucketsByNode(profile.nodes);
  const nameOf = new Map(
    profile.nodes
      .filter((node) => ['sdk', 'project'].includes(buckets.get(node.id)!))
      .map((node) => [node.id, `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^.*\/(node_modules|src)\//, '')}:${(node.callFrame.lineNumber ?? -1) + 1}:${(node.callFrame.columnNumber ?? -1) + 1}`]),
  );
  for (const id of profile.samples ?? []) {
    const name = nameOf.get(id);
    if (name) byName.set(name, (byName.get(name) ?? 0) + interval);
  }
  return [...byName].sort((a, b) => b[1] - a[1]);
}

const all: (TelemetryConfig | undefined)[] = [undefined, ...configs];
// An unprofiled run of each first warms the JIT on every code path.
for (const config of all) await profiledRun(config, false);
const results = new Map<string, Run[]>(all.map((c) => [c?.label ?? 'off', []]));
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < all.length; i++) {
    const config = all[(i + r) % all.length];
    const run = await profiledRun(config, true);
    results.get(config?.label ?? 'off')!.push(run);
    process.stderr.write(`[bench] round ${r + 1} ${config?.label ?? 'off'}: telemetry ${run.telemetry.toFixed(2)} of ${run.profiledCpu.toFixed(1)} us a record\n`);
  }
}
await session.post('Profiler.disable');
session.disconnect();
await close();

const fixed = (x: number, digits = 2) => Number(x.toFixed(digits));
console.log(
  JSON.stringify(
    {
      path: useKafka ? 'kafka' : 'core (in-memory, no Kafka)',
      topology: v.topology ?? 'topologies/echo.yaml',
      records: n,
      ...(producerTraces !== undefined ? { producerTraces } : {}),
      rounds,
      samplingIntervalMicros: Number(v['interval-us']),
      loadAverage1m: fixed(loadavg()[0] ?? 0),
      configs: [...results].map(([label, rs]) => {
        const m = (f: (x: Run) => number, digits = 2) => fixed(median(rs.map(f)), digits);
        const share = median(rs.map((x) => x.telemetry / x.profiledCpu));
        const processShare = median(rs.map((x) => x.telemetry / x.processCpu));
        const goalShare = goalOnProcess ? processShare : share;
        return {
          config: label,
          spansPerRecord: m((x) => x.spans, 4),
          telemetryMicrosPerRecord: m((x) => x.telemetry),
          roundsTelemetryMicrosPerRecord: rs.map((x) => fixed(x.telemetry)),
          sdkMicrosPerRecord: m((x) => x.sdk),
          projectMicrosPerRecord: m((x) => x.project),
          gcMicrosPerRecord: m((x) => x.gc),
          profiledCpuMicrosPerRecord: m((x) => x.profiledCpu, 1),
          processCpuMicrosPerRecord: m((x) => x.processCpu, 1),
          // Of the main thread's CPU, where the pipeline runs: the process's also holds the
          // runtime's helper threads, which would make the share look smaller.
          telemetryShare: fixed(share, 4),
          telemetryShareOfProcess: fixed(processShare, 5),
          ...(label === goal ? { goal: { share: goalOnProcess ? 'telemetryShareOfProcess' : 'telemetryShare', maxShare: GOAL_SHARE, met: goalShare < GOAL_SHARE } } : {}),
        };
      }),
    },
    null,
    2,
  ),
);
