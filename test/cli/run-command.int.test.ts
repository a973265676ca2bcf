/**
 * `teacherlm run` as a user runs it (spawned from source): it stops by itself with
 * --until-idle, and SIGTERM shuts it down gracefully, committing what it wrote.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, testKafka } from '../support/brokers.js';
import { topologyFile } from '../support/topology-file.js';
import { groupCaughtUp, produceInputs, testTopology } from '../pipeline/int-support.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'teacherlm.js');

/** Spawns `teacherlm run`; `onLine` sees each JSON log line and may signal the child. */
function runCommand(args: string[], onLine: (event: Record<string, unknown>, kill: (signal: NodeJS.Signals) => void) => void = () => {}) {
  const child = spawn(process.execPath, [BIN, 'run', ...args], {
    env: { ...process.env, TEACHERLM_FROM_SOURCE: '1', KAFKA_BROKERS: kafkaBrokers().join(',') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  let buffer = '';
  child.stderr.on('data', (d: Buffer) => {
    buffer += d.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (!line.startsWith('{')) continue;
      const event = JSON.parse(line) as Record<string, unknown>;
      events.push(event);
      onLine(event, (signal) => child.kill(signal));
    }
  });
  return new Promise<{ code: number | null; events: Record<string, unknown>[] }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, events }));
  });
}

describe('teacherlm run', () => {
  let kafka: Kafka;
  beforeAll(() => {
    kafka = testKafka();
  });

  it('augments a backlog and stops by itself with --until-idle, logging JSON lines', async () => {
    const topology = testTopology({ echo: true });
    const inputs = await produceInputs(kafka, topology, 300);
    const { code, events } = await runCommand(['--topology', topologyFile(topology), '--until-idle', '1500']);
    expect(code).toBe(0);
    const summary = events.find((e) => e.event === 'summary');
    expect(summary).toMatchObject({ reason: 'idle', augmented: inputs.validIds.size, deadLettered: inputs.malformedIds.size, committed: true, drained: true });
    expect(events.some((e) => e.event === 'topics-ready')).toBe(true);
    expect(await groupCaughtUp(kafka, topology.consumer.group, topology.input.topic)).toBe(true);
  });

  it('shuts down gracefully on SIGTERM and commits only what it wrote', async () => {
    const topology = testTopology({ echo: true });
    await produceInputs(kafka, topology, 5_000);
    let signalled = false;
    const { code, events } = await runCommand(['--topology', topologyFile(topology)], (event, kill) => {
      if (event.event === 'engines-ready' && !signalled) {
        signalled = true;
        // The group join takes a few seconds; this lands while the backlog is being worked.
        setTimeout(() => kill('SIGTERM'), 4_000);
      }
    });
    expect(code).toBe(0);
    expect(events.find((e) => e.event === 'shutting-down')).toMatchObject({ signal: 'SIGTERM' });
    const summary = events.find((e) => e.event === 'summary');
    expect(summary).toMatchObject({ reason: 'SIGTERM', committed: true, inFlight: 0 });
    // In-flight work was finished, so exactly what it wrote is committed (offsets start at 0).
    const written = (summary?.augmented as number) + (summary?.deadLettered as number);
    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId: topology.consumer.group, topics: [topology.input.topic] });
    await admin.disconnect();
    const total = (committed?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    expect(total).toBe(written);
    expect(written).toBeGreaterThan(0);
  });
});
