/**
 * `teacherlm run` metrics and health on the real broker, on a known workload (valid
 * samples and malformed records on a 3-partition topic, echo teachers), read two ways:
 * scraped from `--metrics-port`'s /metrics while the worker idles, and through OTLP/HTTP
 * (OTEL_EXPORTER_OTLP_ENDPOINT) by a receiver in this test that decodes the exports in the
 * default encoding, protobuf. The batches are counted independently
 * from the engine's `teacherlm generate` spans, one per engine call, sent to the same
 * receiver.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { testTopology } from '../pipeline/int-support.js';
import { kafkaBrokers, testKafka } from '../support/brokers.js';
import { awaitCommitted } from '../support/committed-offsets.js';
import { type OtlpMetric, attributeOf, numberOf, startOtlpReceiver } from '../support/otlp-receiver.js';
import { parsePrometheusText, promSum } from '../../src/telemetry/prometheus-text.js';
import { runCli } from '../support/run-cli.js';
import { topologyFile } from '../support/topology-file.js';

interface StatusJson {
  group: { state: string; deadLetters: number; partitions: { lag: number }[]; members: { partitions: number[] }[] };
  worker?: Record<string, number | string>;
}

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'teacherlm.js');

/** `teacherlm run` as a child whose stderr lines can be awaited while it runs. */
function startRun(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, 'run', ...args], {
    env: { ...process.env, TEACHERLM_FROM_SOURCE: '1', KAFKA_BROKERS: kafkaBrokers().join(','), OTEL_TRACES_EXPORTER: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  const metricsPort = async (): Promise<number> => {
    for (;;) {
      const match = /"event":"metrics-listening","port":(\d+)/.exec(stderr);
      if (match) return Number(match[1]);
      if (child.exitCode !== null) throw new Error(`run exited before listening:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { child, exited, metricsPort, stderr: () => stderr };
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** The data points of `name` in one OTLP export. */
function pointsOf(metrics: OtlpMetric[], name: string) {
  const metric = metrics.find((m) => m.name === name);
  return metric?.gauge?.dataPoints ?? metric?.sum?.dataPoints ?? metric?.histogram?.dataPoints ?? [];
}

describe('teacherlm run, metrics', () => {
  it('exports plausible metrics on a known workload, over OTLP and at /metrics', async () => {
    const kafka = testKafka();
    const topology = testTopology({ echo: true });
    await ensureTopics(kafka, [topology.input, topology.output, topology.deadLetter]);
    const valid = 30;
    const malformed = [Buffer.from('garbage'), Buffer.from('{"id": "m1", "task": '), Buffer.from(JSON.stringify({ id: 'm2', task: 'CREAK', answer: '(A)' }))];
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic: topology.input.topic,
      messages: [
        ...Array.from({ length: valid }, (_, i) => ({
          key: `m-${i}`,
          value: JSON.stringify({ id: `m-${i}`, task: 'CREAK', question: `Is ${i} even? (A) True (B) False`, answer: '(A)' }),
        })),
        ...malformed.map((value, i) => ({ key: `bad-${i}`, value })),
      ],
    });
    await producer.disconnect();
    const total = valid + malformed.length;

    const receiver = await startOtlpReceiver();
    let run: ReturnType<typeof startRun> | undefined;
    try {
      const file = topologyFile(topology);
      // Stopped by SIGTERM once checked, so the final OTLP export follows a graceful shutdown.
      run = startRun(['--topology', file, '--metrics-port', '0'], {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
      });
      const port = await run.metricsPort();
      expect((await get(port, '/healthz')).status).toBe(200);

      // Scrape until the whole workload is written and the lag of every partition is known.
      let scraped = parsePrometheusText((await get(port, '/metrics')).body);
      const deadline = Date.now() + 60_000;
      while (
        !(promSum(scraped, 'teacherlm_records_written_total') === total && scraped.filter((s) => s.name === 'messaging_kafka_consumer_lag').length === 3) &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 100));
        scraped = parsePrometheusText((await get(port, '/metrics')).body);
      }
      expect(promSum(scraped, 'teacherlm_records_written_total'), run.stderr()).toBe(total);
      expect((await get(port, '/readyz')).status).toBe(200);
      expect(promSum(scraped, 'teacherlm_records_written_total', { teacherlm_outcome: 'dead-letter' })).toBe(malformed.length);
      expect(promSum(scraped, 'teacherlm_dead_letters_total')).toBe(malformed.length);
      expect(promSum(scraped, 'messaging_kafka_consumer_lag')).toBe(0);
      expect(promSum(scraped, 'teacherlm_records_in_flight')).toBe(0);
      expect(promSum(scraped, 'messaging_client_consumed_messages_total')).toBe(total);
      expect(promSum(scraped, 'messaging_process_duration_count')).toBe(total);
      expect(promSum(scraped, 'teacherlm_record_end_to_end_duration_count')).toBe(total);
      // Three teachers: each valid sample is three tasks through the one echo engine.
      expect(promSum(scraped, 'teacherlm_engine_batch_size_sum')).toBe(3 * valid);
      expect(promSum(scraped, 'teacherlm_engine_queue_duration_count')).toBe(3 * valid);
      expect(promSum(scraped, 'teacherlm_engine_queue_depth')).toBe(0);
      expect(promSum(scraped, 'teacherlm_engine_tokens_total', { gen_ai_token_type: 'input' })).toBeGreaterThan(0);
      expect(promSum(scraped, 'teacherlm_engine_tokens_total', { gen_ai_token_type: 'output' })).toBeGreaterThan(0);
      const busy = promSum(scraped, 'teacherlm_engine_utilization');
      expect(busy).toBeGreaterThan(0);
      expect(busy).toBeLessThanOrEqual(1);

      // teacherlm status, while the worker idles: Kafka's view of the group and the worker's,
      // once the worker's periodic commit (every consumer.commitIntervalMs) has reached Kafka.
      expect(await awaitCommitted(kafka, topology.consumer.group, topology.input.topic, total)).toBe(total);
      const status = await runCli(['status', '--topology', file, '--metrics', `http://127.0.0.1:${port}`, '--json', '--interval', '200']);
      expect(status.code, status.stderr).toBe(0);
      const reading = JSON.parse(status.stdout) as StatusJson;
      expect(reading.group.partitions.map((p) => p.lag)).toEqual([0, 0, 0]);
      expect(reading.group.deadLetters).toBe(malformed.length);
      expect(reading.group.state).toBe('Stable');
      expect(reading.group.members.flatMap((m) => m.partitions).sort()).toEqual([0, 1, 2]);
      expect(reading.worker).toMatchObject({ written: total, deadLettered: malformed.length, inFlight: 0, queueDepth: 0 });

      run.child.kill('SIGTERM');
      expect(await run.exited, run.stderr()).toBe(0);
      // The batches, counted by the engine's spans: one per call, no retries on echo.
      const generateSpans = receiver.spans.filter((s) => s.name === 'teacherlm generate');
      expect(generateSpans.length).toBeGreaterThan(0);
      expect(promSum(scraped, 'teacherlm_engine_batch_size_count')).toBe(generateSpans.length);
      expect(promSum(scraped, 'teacherlm_engine_retries_total')).toBe(0);

      // The last OTLP export (at shutdown) holds the cumulative totals.
      expect(receiver.metricExports.length).toBeGreaterThan(0);
      expect(receiver.encodings.every((e) => e.startsWith('application/x-protobuf'))).toBe(true);
      const last = receiver.metricExports.at(-1)!;
      expect(pointsOf(last, 'teacherlm.engine.batch.size').reduce((n, p) => n + numberOf(p), 0)).toBe(generateSpans.length);
      const lag = pointsOf(last, 'messaging.kafka.consumer.lag');
      expect(lag.map((p) => attributeOf(p, 'messaging.destination.partition.id')).sort()).toEqual(['0', '1', '2']);
      expect(lag.map(numberOf)).toEqual([0, 0, 0]);
      const utilization = pointsOf(last, 'teacherlm.engine.utilization').map(numberOf);
      expect(utilization).toHaveLength(1);
      expect(utilization[0]).toBeGreaterThan(0);
      expect(utilization[0]).toBeLessThanOrEqual(1);
      const deadLetters = pointsOf(last, 'teacherlm.dead_letters');
      expect(deadLetters.reduce((n, p) => n + numberOf(p), 0)).toBe(malformed.length);
      expect(deadLetters.every((p) => attributeOf(p, 'error.type') !== undefined)).toBe(true);
      expect(pointsOf(last, 'gen_ai.client.token.usage').length).toBe(2);
    } finally {
      if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
      await receiver.close();
    }
  });

  it('answers /readyz 503 until the engines are loaded, then 200', async () => {
    const topology = testTopology();
    await ensureTopics(testKafka(), [topology.input, topology.output, topology.deadLetter]);
    const file = join(mkdtempSync(join(tmpdir(), 'readyz-')), 'topology.yaml');
    writeFileSync(
      file,
      stringify({
        name: 'readyz-test',
        input: { topic: topology.input.topic, partitions: 3 },
        output: { topic: topology.output.topic },
        deadLetter: { topic: topology.deadLetter.topic },
        consumer: { group: topology.consumer.group },
        teachers: [{ annotation: 'fundamentals', model: resolve('test/fixtures/models/tiny-llama'), promptStyle: 'chat', generation: { maxNewTokens: 2 } }],
        engine: { workers: 1, threads: 1 },
      }),
    );
    const run = startRun(['--topology', file, '--metrics-port', '0'], {});
    try {
      const port = await run.metricsPort();
      const seen: { status: number; engines: boolean; afterEnginesLine: boolean }[] = [];
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const afterEnginesLine = run.stderr().includes('"event":"engines-ready"');
        const { status, body } = await get(port, '/readyz');
        const report = JSON.parse(body) as { ready: boolean; checks: Record<string, boolean> };
        seen.push({ status, engines: report.checks.engines === true, afterEnginesLine });
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      const first = seen[0]!;
      expect(first.status).toBe(503);
      expect(first.engines).toBe(false);
      expect(seen.at(-1)!.status, run.stderr()).toBe(200);
      // 200 only with engines loaded; a 503 with engines loaded waits on the partitions or broker.
      expect(seen.filter((s) => s.status === 200).every((s) => s.engines)).toBe(true);
      expect(seen.filter((s) => !s.engines).every((s) => s.status === 503)).toBe(true);
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited, run.stderr()).toBe(0);
    }
  });
});
