/**
 * docker-compose.yml and Dockerfile. `docker compose config` is the real validation and
 * runs where that command works; the structural checks below run everywhere.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../src/project-root.js';
import { startMetrics } from '../../src/telemetry/metrics-setup.js';
import { startMetricsServer } from '../../src/telemetry/metrics-server.js';

const composeFile = join(PROJECT_ROOT, 'docker-compose.yml');

function composeAvailable(): { ok: boolean; reason: string } {
  const res = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (res.error) return { ok: false, reason: `docker not found (${res.error.message})` };
  if (res.status !== 0) return { ok: false, reason: `'docker compose version' failed: ${(res.stderr || res.stdout).trim().split('\n')[0]}` };
  return { ok: true, reason: '' };
}

const compose = composeAvailable();
if (!compose.ok) console.warn(`docker compose config check skipped: ${compose.reason}`);

describe('docker-compose.yml', () => {
  it.skipIf(!compose.ok)('passes docker compose config', () => {
    const res = spawnSync('docker', ['compose', '-f', composeFile, 'config', '--quiet'], { encoding: 'utf8', cwd: PROJECT_ROOT });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });

  const doc = parse(readFileSync(composeFile, 'utf8')) as {
    services: Record<
      string,
      { image?: string; build?: unknown; command?: string[]; environment?: Record<string, unknown>; depends_on?: Record<string, unknown>; volumes?: string[]; ports?: string[] }
    >;
  };

  it('runs the official apache/kafka image in KRaft mode, fit for transactions on one broker', () => {
    const kafka = doc.services.kafka!;
    expect(kafka.image).toMatch(/^apache\/kafka:4\.1\./);
    expect(kafka.environment).toMatchObject({
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_ADVERTISED_LISTENERS: expect.stringContaining('PLAINTEXT://kafka:9092'),
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: 1,
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: 1,
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: 1,
    });
  });

  it('runs Jaeger with OTLP, and the pipeline built from the Dockerfile pointing at both', () => {
    expect(doc.services.jaeger!.image).toMatch(/^jaegertracing\/all-in-one:/);
    expect(doc.services.jaeger!.environment).toMatchObject({ COLLECTOR_OTLP_ENABLED: 'true' });
    const pipeline = doc.services.pipeline!;
    expect(pipeline.build).toBe('.');
    expect(pipeline.command).toEqual(['run', '--topology', 'topologies/default.yaml', '--metrics-port', '9464', '--metrics-host', '0.0.0.0']);
    expect(pipeline.environment).toMatchObject({
      KAFKA_BROKERS: 'kafka:9092',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_EXPORTER: 'otlp',
      // Jaeger takes no OTLP metrics: Prometheus scrapes them.
      OTEL_METRICS_EXPORTER: 'none',
    });
    expect(Object.keys(pipeline.depends_on ?? {})).toEqual(['kafka', 'registry', 'jaeger']);
  });

  it('runs the official Apicurio Registry image with durable kafkasql storage, and the pipeline points at it', () => {
    const registry = doc.services.registry!;
    expect(registry.image).toBe('apicurio/apicurio-registry:3.3.3');
    expect(registry.environment).toMatchObject({ APICURIO_STORAGE_KIND: 'kafkasql', APICURIO_KAFKASQL_BOOTSTRAP_SERVERS: 'kafka:9092' });
    expect(doc.services.pipeline!.environment).toMatchObject({ SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7' });
  });
});

describe('Prometheus in docker-compose.yml', () => {
  const doc = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, { image?: string; volumes?: string[]; command?: string[] }> };
  const prometheus = doc.services.prometheus!;
  const mounted = new Map((prometheus.volumes ?? []).map((v) => v.split(':') as [string, string, string?]).map(([from, to]) => [to, from]));
  const fileAt = (inContainer: string) => {
    const from = mounted.get(inContainer);
    expect(from, `${inContainer} is mounted`).toBeDefined();
    return parse(readFileSync(join(PROJECT_ROOT, from!), 'utf8')) as Record<string, unknown>;
  };
  const config = fileAt('/etc/prometheus/prometheus.yml') as { rule_files: string[]; scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[] };

  it("scrapes the pipeline's --metrics-port", () => {
    expect(prometheus.image).toMatch(/^prom\/prometheus:v3\./);
    const pipeline = doc.services.pipeline!;
    const port = pipeline.command![pipeline.command!.indexOf('--metrics-port') + 1];
    const job = config.scrape_configs.find((c) => c.job_name === 'teacherlm')!;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs.flatMap((c) => c.targets)).toEqual([`pipeline:${port}`]);
  });

  it('alerts only on metrics the pipeline exports, under their Prometheus names', async () => {
    const rules = config.rule_files.map((f) => fileAt(f) as { groups: { rules: { alert: string; expr: string }[] }[] }).flatMap((g) => g.groups.flatMap((x) => x.rules));
    expect(rules.length).toBeGreaterThan(5);
    // The names the exporter writes, from a pipeline's metrics each recorded once.
    const metrics = startMetrics({ prometheus: true, env: {} });
    const engine = { key: 'echo', modelId: 'echo', concurrency: 1 };
    const p = metrics.pipeline;
    const task = { job: {} };
    p.observe({ inFlight: () => 0, lagByPartition: () => [{ topic: 't', partition: 0, lag: 0 }] }, [engine]);
    p.consumed({ topic: 't', partition: 0 });
    p.written({ topic: 't', partition: 0, timestamp: String(Date.now()) }, 0, 'augmented');
    p.deadLettered('DECODE_FAILED');
    p.queued(engine, task);
    p.batchStarted(engine, [task]);
    p.engineStarted(engine);
    p.engineCall(engine, 5, [{ promptTokens: 3, generatedTokens: 2 }]);
    p.retried(engine, 'WORKER_CRASHED');
    p.transaction('abort');
    p.qualityCheck('truncated', false);
    p.offsetsCommitted();
    const server = await startMetricsServer({ port: 0, prometheus: metrics.prometheus! });
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      const exported = new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)![0]));
      exported.add('up');
      for (const rule of rules) {
        // Metric names only: label lists (`by (...)`) and matchers (`{...}`) left out.
        const names = (rule.expr.replace(/\b(?:by|without)\s*\([^)]*\)/g, '').replace(/\{[^}]*\}/g, '').match(/\b(?:teacherlm|messaging|gen_ai)_[a-z0-9_]+|\bup\b/g) ?? []);
        expect(names.length, rule.alert).toBeGreaterThan(0);
        for (const name of names) expect(exported.has(name), `${rule.alert}: ${name}`).toBe(true);
      }
    } finally {
      await server.close();
      await metrics.shutdown();
    }
  });
});

describe('Dockerfile', () => {
  it('builds on node:20-slim with npm ci and runs the teacherlm CLI', () => {
    const text = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    expect(text).toMatch(/^FROM node:20-slim$/m);
    expect(text).toMatch(/^RUN npm ci\b/m);
    expect(text).toMatch(/^ENTRYPOINT \["node", "bin\/teacherlm\.js"\]$/m);
  });
});
