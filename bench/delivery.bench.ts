/**
 * `npm run bench:delivery [-- --echo-samples N --rounds N --model-samples N --max-new-tokens N --model DIR
 *   --latency-records N --latency-rate N --restart-backlog N --skip-model --skip-restart]`
 *
 * What exactly-once costs against at-least-once, in one run on the real broker
 * (KAFKA_BROKERS, else Docker, else the local broker):
 * 1. throughput on the echo teacher (`topologies/echo.yaml`), rounds interleaved on one
 *    backlog (goal >= 0.8x), and on the real model of `topologies/default.yaml` with a
 *    few samples (goal >= 0.97x);
 * 2. end-to-end latency, input record timestamp to the output's arrival at a
 *    read_committed consumer, p50 and p99 per mode at the default commit interval;
 * 3. time to first output after a SIGKILLed predecessor (real `teacherlm run`
 *    processes), with kafkajs's old 30 s session timeout and with the topology default.
 * Each figure is printed as a ratio with its goal, next to the CPU's flags. Prints one
 * JSON object on stdout, and the figures as lines on stderr.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveBrokers } from '../src/kafka/brokers.js';
import { createKafka } from '../src/kafka/client.js';
import { loadTopology } from '../src/pipeline/topology.js';
import { openPipelineService } from '../src/service/pipeline-service.js';
import { measureLatency } from './delivery/latency.js';
import { firstOutputAfterKill } from './delivery/restart.js';
import { compareThroughput } from './delivery/throughput.js';
import { cpuInfo, creakSamples, freshTopology, produceBacklog, round } from './delivery/workload.js';

const root = join(import.meta.dirname, '..');
const { values: v } = parseArgs({
  options: {
    'echo-samples': { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '2' },
    'model-samples': { type: 'string', default: '6' },
    'max-new-tokens': { type: 'string', default: '16' },
    model: { type: 'string' },
    'latency-records': { type: 'string', default: '2000' },
    'latency-rate': { type: 'string', default: '200' },
    'restart-backlog': { type: 'string', default: '30000' },
    'skip-model': { type: 'boolean', default: false },
    'skip-restart': { type: 'boolean', default: false },
  },
});
const count = (name: keyof typeof v) => {
  const n = Number(v[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got ${String(v[name])}`);
  return n;
};
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

interface Figure {
  figure: string;
  ratio: number;
  goal: string;
  met: boolean;
  detail: string;
}

async function main() {
  const brokers = await resolveBrokers({ log: (line) => process.stderr.write(`[kafka] ${line}\n`) });
  const kafka = createKafka({ brokers: brokers.brokers, clientId: 'teacherlm-bench', logLevel: 'error' });
  const cpu = cpuInfo();
  const figures: Figure[] = [];
  const result: Record<string, unknown> = { brokers: brokers.brokers, cpu };
  const rounds = count('rounds');
  try {
    // 1a. Echo throughput.
    const echoFile = join(root, 'topologies', 'echo.yaml');
    const echo = freshTopology(loadTopology(echoFile), 'delivery-echo');
    const n = count('echo-samples');
    await produceBacklog(kafka, echo, creakSamples(n));
    const echoService = await openPipelineService({ kafka, topology: echo });
    try {
      const t = await compareThroughput(echoService, echo, n, rounds, log);
      result.echoThroughput = t;
      figures.push({ figure: 'echo throughput, exactly-once / at-least-once', ratio: t.ratio, goal: '>= 0.8', met: t.ratio >= 0.8, detail: `best of ${rounds} interleaved rounds, ${n} records: ${Math.round(Math.max(...t.exactlyOnce))} vs ${Math.round(Math.max(...t.atLeastOnce))} records/s; exactly-once start (fence, seek) ${t.exactlyOnceStartSeconds.join(', ')} s, not counted` });
    } finally {
      await echoService.close();
    }

    // 1b. Model throughput.
    if (!v['skip-model']) {
      const base = loadTopology(join(root, 'topologies', 'default.yaml'));
      const model = v.model ? resolve(v.model) : base.teachers[0]?.model;
      if (!model || !existsSync(model)) throw new Error(`model ${model} missing: run teacherlm model import smollm2, or pass --model DIR`);
      const maxNewTokens = count('max-new-tokens');
      const topology = freshTopology({ ...base, teachers: base.teachers.map((t) => ({ ...t, model, generation: { ...t.generation, maxNewTokens } })) }, 'delivery-model');
      const m = count('model-samples');
      await produceBacklog(kafka, topology, creakSamples(m));
      const service = await openPipelineService({ kafka, topology });
      try {
        const t = await compareThroughput(service, topology, m, rounds, log);
        result.modelThroughput = { ...t, model, maxNewTokens };
        figures.push({ figure: 'model throughput, exactly-once / at-least-once', ratio: t.ratio, goal: '>= 0.97', met: t.ratio >= 0.97, detail: `${model.split('/').at(-1)}, ${m} samples, ${maxNewTokens} new tokens, best of ${rounds} interleaved rounds: ${round(Math.max(...t.exactlyOnce))} vs ${round(Math.max(...t.atLeastOnce))} samples/s; exactly-once start ${t.exactlyOnceStartSeconds.join(', ')} s, not counted` });
      } finally {
        await service.close();
      }
    }

    // 2. Latency at the default commit interval, on the echo teacher.
    const records = count('latency-records');
    const rate = count('latency-rate');
    const alo = await measureLatency(kafka, loadTopology(echoFile), 'at-least-once', records, rate);
    const eos = await measureLatency(kafka, loadTopology(echoFile), 'exactly-once', records, rate);
    result.latency = { atLeastOnce: alo, exactlyOnce: eos };
    // Exactly-once holds outputs until the next commit: by design up to one commit interval more.
    const bound = (a: number, e: number) => e <= a + alo.commitIntervalMs;
    for (const q of ['p50Ms', 'p99Ms'] as const) {
      figures.push({
        figure: `latency ${q.slice(0, 3)}, exactly-once / at-least-once`,
        ratio: round(eos[q] / alo[q], 2),
        goal: `exactly-once <= at-least-once + commit interval (${alo.commitIntervalMs} ms)`,
        met: bound(alo[q], eos[q]),
        detail: `${eos[q]} ms vs ${alo[q]} ms, ${eos.records}/${alo.records} of ${records} records at ${rate}/s`,
      });
    }

    // 3. Time to first output after a SIGKILLed predecessor.
    if (!v['skip-restart']) {
      const backlog = count('restart-backlog');
      const old = await firstOutputAfterKill(kafka, brokers.brokers, echoFile, 30_000, backlog);
      log(`first output after a kill, 30 s session: ${old.seconds.toFixed(1)} s`);
      const now = await firstOutputAfterKill(kafka, brokers.brokers, echoFile, undefined, backlog);
      log(`first output after a kill, ${now.sessionTimeoutMs} ms session: ${now.seconds.toFixed(1)} s`);
      result.restart = { old, now };
      const ratio = round(now.seconds / old.seconds, 2);
      figures.push({ figure: 'first output after a SIGKILLed predecessor, default session / 30 s session', ratio, goal: '<= 0.5', met: ratio <= 0.5, detail: `${round(now.seconds, 1)} s (${now.sessionTimeoutMs} ms session) vs ${round(old.seconds, 1)} s (30000 ms), one trial each, ${now.delivery}` });
    }
  } finally {
    await brokers.stop();
  }
  result.figures = figures;
  result.loadAverage1m = round(loadavg()[0] ?? 0, 2);
  process.stderr.write(`\ncpu: ${cpu.model}\nflags: ${cpu.flags}\nload average (1 min): ${result.loadAverage1m}\n`);
  for (const f of figures) process.stderr.write(`${f.figure}: ${f.ratio}x (goal ${f.goal}: ${f.met ? 'met' : 'not met'}) - ${f.detail}\n`);
  console.log(JSON.stringify(result, null, 2));
}

await main();
