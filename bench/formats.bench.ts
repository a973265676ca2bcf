/**
 * `npm run bench:formats [-- --samples N --rounds N]`
 *
 * What the Confluent wire format costs against single-object Avro, in one run on the real
 * broker and registry (KAFKA_BROKERS / SCHEMA_REGISTRY_URL, else the local ones, started
 * on demand): the echo pipeline (`topologies/echo.yaml`) drains a backlog of `--samples`
 * (default 20,000) CREAK samples written in the format under test, and writes its output
 * in that format. Each round runs both formats back to back (`--rounds`, default 3; each
 * run a new consumer group on the same backlog), in the order avro-confluent, then
 * confluent-avro in the next round, so neither format always runs first after a pause.
 * A round gives one ratio confluent/avro of records/s and one avro/confluent of process
 * CPU per record (the steadier figure on a shared machine: >= 1 means confluent costs no
 * more); the medians of the rounds' ratios are the result, beside best-against-best.
 * Rates run from the first record consumed to the last acknowledged. Prints one JSON object.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '../src/kafka/admin.js';
import { resolveBrokers } from '../src/kafka/brokers.js';
import { createKafka } from '../src/kafka/client.js';
import { createGenerators } from '../src/pipeline/generators.js';
import { runPipeline } from '../src/pipeline/pipeline.js';
import { pipelineEdges } from '../src/service/pipeline-service.js';
import { loadTopology, type Topology } from '../src/pipeline/topology.js';
import type { PipelineCodecs } from '../src/records/codecs.js';
import type { RawSample } from '../src/records/types.js';
import { createRegistryClient } from '../src/registry/client.js';
import { resolveRegistry } from '../src/registry/resolve-registry.js';
import { topologyCodecs } from '../src/service/topology-codecs.js';
import type { TextGenerator } from '../src/teacher/types.js';
import { CREAK_DEV } from '../test/support/creak.js';
import { TimedEdges } from './echo-runs.js';

const { values: v } = parseArgs({ options: { samples: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' } } });
const samples = Number(v.samples);
const rounds = Math.max(1, Number(v.rounds));
const run = Date.now().toString(36);
const FORMATS = ['avro', 'confluent'] as const;

function creakSamples(n: number): RawSample[] {
  const lines = readFileSync(CREAK_DEV, 'utf8').trimEnd().split('\n');
  return Array.from({ length: n }, (_, i) => {
    const row = JSON.parse(lines[i % lines.length] as string) as { question: string; answer: string; task_name: string };
    return { id: `bench-${i}`, task: row.task_name, question: row.question, answer: row.answer, context: null, metadata: {} };
  });
}

function topologyFor(format: (typeof FORMATS)[number]): Topology {
  const base = loadTopology(join(import.meta.dirname, '..', 'topologies', 'echo.yaml'));
  return {
    ...base,
    input: { ...base.input, topic: `bench.${format}.raw.${run}`, format },
    output: { ...base.output, topic: `bench.${format}.augmented.${run}`, format },
    deadLetter: { ...base.deadLetter, topic: `bench.${format}.dead-letter.${run}` },
  };
}

async function produceBacklog(kafka: Kafka, topology: Topology, codecs: PipelineCodecs, rows: RawSample[]): Promise<void> {
  await ensureTopics(kafka, [topology.input, topology.output, topology.deadLetter]);
  const encoder = topology.input.format === 'confluent' ? codecs.confluentRawSample! : codecs.rawSample;
  const producer = kafka.producer();
  await producer.connect();
  const messages = rows.map((s) => ({ key: s.id, value: encoder.encode(s) }));
  for (let i = 0; i < messages.length; i += 2_000) await producer.send({ topic: topology.input.topic, messages: messages.slice(i, i + 2_000) });
  await producer.disconnect();
}

async function timePipeline(kafka: Kafka, topology: Topology, group: string, codecs: PipelineCodecs, generators: Map<string, TextGenerator>) {
  // The source and sink `teacherlm run` uses.
  const { source, sink } = pipelineEdges(kafka, topology, { group, source: { lagRefreshMs: 0 } });
  await sink.connect();
  const timed = new TimedEdges();
  const cpuBefore = process.cpuUsage();
  const summary = await runPipeline({ topology, source: timed.wrap.source(source), sink: timed.wrap.sink(sink), generators, codecs, maxRecords: samples }).done;
  if (summary.augmented !== samples) throw new Error(`${topology.output.format}: ${summary.augmented} of ${samples} augmented (${summary.deadLettered} dead letters)`);
  const cpu = process.cpuUsage(cpuBefore);
  return { rate: samples / timed.seconds(), cpuMicrosPerRecord: (cpu.user + cpu.system) / samples };
}

async function main() {
  const brokers = await resolveBrokers({ log: (line) => process.stderr.write(`[kafka] ${line}\n`) });
  const registry = await resolveRegistry({ log: (line) => process.stderr.write(`[registry] ${line}\n`) });
  const kafka = createKafka({ brokers: brokers.brokers, clientId: 'teacherlm-bench', logLevel: 'error' });
  try {
    const client = createRegistryClient(registry.url);
    const rows = creakSamples(samples);
    const setups = new Map<string, { topology: Topology; codecs: PipelineCodecs }>();
    for (const format of FORMATS) {
      const topology = topologyFor(format);
      const codecs = await topologyCodecs(topology, client);
      await produceBacklog(kafka, topology, codecs, rows);
      setups.set(format, { topology, codecs });
    }
    const generators = await createGenerators(topologyFor('avro'));
    const rates: Record<string, number[]> = { avro: [], confluent: [] };
    const cpus: Record<string, number[]> = { avro: [], confluent: [] };
    for (let r = 0; r < rounds; r++) {
      for (const format of r % 2 === 0 ? FORMATS : [...FORMATS].reverse()) {
        const { topology, codecs } = setups.get(format)!;
        const { rate, cpuMicrosPerRecord } = await timePipeline(kafka, topology, `bench-${format}-${run}-${r}`, codecs, generators);
        rates[format]!.push(Math.round(rate));
        cpus[format]!.push(Math.round(cpuMicrosPerRecord));
        process.stderr.write(`[bench] round ${r + 1} ${format}: ${Math.round(rate)} records/s, ${Math.round(cpuMicrosPerRecord)} µs CPU/record\n`);
      }
    }
    await Promise.all([...generators.values()].map((g) => g.close()));
    const best = (xs: number[]) => Math.max(...xs);
    const least = (xs: number[]) => Math.min(...xs);
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    };
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    const perRound = (num: number[], den: number[]) => num.map((x, i) => round3(x / den[i]!));
    const rateRatios = perRound(rates.confluent!, rates.avro!);
    const cpuRatios = perRound(cpus.avro!, cpus.confluent!);
    console.log(
      JSON.stringify(
        {
          records: samples,
          registry: registry.url,
          avroRecordsPerSec: best(rates.avro!),
          confluentRecordsPerSec: best(rates.confluent!),
          ratioConfluentToAvro: round3(best(rates.confluent!) / best(rates.avro!)),
          medianRoundRatioConfluentToAvro: round3(median(rateRatios)),
          roundRatiosConfluentToAvro: rateRatios,
          roundsRecordsPerSec: rates,
          // Process CPU (all threads) per record: far less sensitive than the rate to a busy shared machine.
          avroCpuMicrosPerRecord: least(cpus.avro!),
          confluentCpuMicrosPerRecord: least(cpus.confluent!),
          cpuRatioAvroToConfluent: round3(least(cpus.avro!) / least(cpus.confluent!)),
          medianRoundCpuRatioAvroToConfluent: round3(median(cpuRatios)),
          roundCpuRatiosAvroToConfluent: cpuRatios,
          roundsCpuMicrosPerRecord: cpus,
          loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
        },
        null,
        2,
      ),
    );
  } finally {
    await registry.stop();
    await brokers.stop();
  }
}

await main();
