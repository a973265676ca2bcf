/**
 * `teacherlm run` as a user runs it (spawned from source): it stops by itself with
 * --until-idle, and SIGTERM shuts it down gracefully, committing what it wrote.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, testKafka } from '../support/brokers.js';
import { topologyFile } from '../support/topology-file.js';
import { groupCaughtUp, produceInputs, testTopology } from '../pipeline/int-support.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'teacherlm.js');

/** Spawns `teacherlm run`, collecting its JSON log lines; `kill` signals it. */
function runCommand(args: string[]) {
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
      if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  const exit = new Promise<{ code: number | null; events: Record<string, unknown>[] }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, events }));
  });
  return { exit, kill: (signal: NodeJS.Signals) => child.kill(signal) };
}

/** Offsets a group has committed on a topic, summed over its partitions (offsets start at 0). */
async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (committed?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/**
 * Watches the group's committed offsets until its first commit and returns their total;
 * fails when the run exits first or nothing is committed within `timeoutMs`.
 */
async function firstCommit(admin: Admin, groupId: string, topic: string, exit: Promise<unknown>, timeoutMs: number): Promise<number> {
  let exited = false;
  void exit.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const total = await committedTotal(admin, groupId, topic);
    if (total > 0) return total;
    if (exited) throw new Error('teacherlm run exited before its first commit');
    if (Date.now() > deadline) throw new Error(`teacherlm run committed nothing within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('teacherlm run', () => {
  let kafka: Kafka;
  beforeAll(() => {
    kafka = testKafka();
  });

  it('augments a backlog and stops by itself with --until-idle, logging JSON lines', async () => {
    const topology = testTopology({ echo: true });
    const inputs = await produceInputs(kafka, topology, 300);
    const { code, events } = await runCommand(['--topology', topologyFile(topology), '--until-idle', '1500']).exit;
    expect(code).toBe(0);
    const summary = events.find((e) => e.event === 'summary');
    expect(summary).toMatchObject({ reason: 'idle', augmented: inputs.validIds.size, deadLettered: inputs.malformedIds.size, committed: true, drained: true });
    expect(events.some((e) => e.event === 'topics-ready')).toBe(true);
    expect(await groupCaughtUp(kafka, topology.consumer.group, topology.input.topic)).toBe(true);
  });

  it('shuts down gracefully on SIGTERM and commits only what it wrote', async () => {
    const topology = testTopology({ echo: true });
    const samples = 10_000;
    await produceInputs(kafka, topology, samples);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const run = runCommand(['--topology', topologyFile(topology)]);
      // Signalled at its first commit, while the rest of the backlog is still to do.
      const atSignal = await firstCommit(admin, topology.consumer.group, topology.input.topic, run.exit, 120_000);
      run.kill('SIGTERM');
      const { code, events } = await run.exit;
      expect(atSignal).toBeLessThan(samples);
      expect(code).toBe(0);
      expect(events.find((e) => e.event === 'shutting-down')).toMatchObject({ signal: 'SIGTERM' });
      const summary = events.find((e) => e.event === 'summary');
      expect(summary).toMatchObject({ reason: 'SIGTERM', committed: true, inFlight: 0 });
      // In-flight work was finished, so exactly what it wrote is committed.
      const written = (summary?.augmented as number) + (summary?.deadLettered as number);
      expect(await committedTotal(admin, topology.consumer.group, topology.input.topic)).toBe(written);
      expect(written).toBeGreaterThanOrEqual(atSignal);
      expect(written, 'stopped before the backlog was done').toBeLessThan(samples);
    } finally {
      await admin.disconnect();
    }
  });
});
