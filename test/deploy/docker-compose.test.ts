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
    services: Record<string, { image?: string; build?: unknown; command?: string[]; environment?: Record<string, unknown>; depends_on?: Record<string, unknown> }>;
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
    expect(pipeline.command).toEqual(['run', '--topology', 'topologies/default.yaml']);
    expect(pipeline.environment).toMatchObject({ KAFKA_BROKERS: 'kafka:9092', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' });
    expect(Object.keys(pipeline.depends_on ?? {})).toEqual(['kafka', 'registry', 'jaeger']);
  });

  it('runs the official Apicurio Registry image with durable kafkasql storage, and the pipeline points at it', () => {
    const registry = doc.services.registry!;
    expect(registry.image).toBe('apicurio/apicurio-registry:3.3.3');
    expect(registry.environment).toMatchObject({ APICURIO_STORAGE_KIND: 'kafkasql', APICURIO_KAFKASQL_BOOTSTRAP_SERVERS: 'kafka:9092' });
    expect(doc.services.pipeline!.environment).toMatchObject({ SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7' });
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
