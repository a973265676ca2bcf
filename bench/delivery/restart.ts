/**
 * Time to first output after a SIGKILLed predecessor: a real `teacherlm run` holds the
 * group's partitions mid-backlog and is SIGKILLed; a new one starts at once and waits for
 * the coordinator to drop the dead member (its session timeout) before it is assigned.
 * Timed from the new process's spawn to the first output record past what the killed
 * one wrote (output log end offsets). One trial per session timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { parse, stringify } from 'yaml';
import { loadTopology, type Topology } from '../../src/pipeline/topology.js';
import { creakSamples, freshTopology, produceBacklog } from './workload.js';

const root = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startWorker(topologyFile: string, brokers: string[]): ChildProcess {
  return spawn(process.execPath, [join(root, 'bin', 'teacherlm.js'), 'run', '--topology', topologyFile], {
    env: { ...process.env, KAFKA_BROKERS: brokers.join(',') },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
}

async function outputEnd(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

async function waitPast(kafka: Kafka, topic: string, mark: number, timeoutMs: number): Promise<number> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
    const end = await outputEnd(kafka, topic);
    if (end > mark) return end;
  }
  throw new Error(`no output past ${mark} on ${topic} within ${timeoutMs} ms`);
}

function stopped(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => (clearTimeout(timer), resolve()));
    child.kill(signal);
  });
}

/** Seconds from the successor's spawn to its first output, with `sessionTimeoutMs` (undefined: the topology's default). */
export async function firstOutputAfterKill(kafka: Kafka, brokers: string[], topologyFile: string, sessionTimeoutMs: number | undefined, backlog: number) {
  const base = loadTopology(topologyFile);
  const tag = `restart-${sessionTimeoutMs ?? 'default'}`;
  const fresh = freshTopology(base, tag);
  const topology: Topology = { ...fresh, consumer: { ...fresh.consumer, ...(sessionTimeoutMs ? { sessionTimeoutMs } : {}) } };
  await produceBacklog(kafka, topology, creakSamples(backlog, tag));
  const dir = mkdtempSync(join(tmpdir(), 'teacherlm-bench-'));
  const file = join(dir, 'topology.yaml');
  // The topology file as a user writes it, on this measurement's topics and group.
  const doc = parse(readFileSync(topologyFile, 'utf8')) as Record<string, Record<string, unknown>>;
  const consumer = { ...doc.consumer, group: topology.consumer.group, ...(sessionTimeoutMs ? { sessionTimeoutMs } : {}) };
  const topics = { input: { ...doc.input, topic: topology.input.topic }, output: { ...doc.output, topic: topology.output.topic }, deadLetter: { ...doc.deadLetter, topic: topology.deadLetter.topic } };
  writeFileSync(file, stringify({ ...doc, ...topics, consumer }));
  const children: ChildProcess[] = [];
  try {
    const first = startWorker(file, brokers);
    children.push(first);
    await waitPast(kafka, topology.output.topic, 0, 120_000);
    await sleep(1_000);
    await stopped(first, 'SIGKILL');
    await sleep(300); // requests the broker took before the kill are in the log now
    const mark = await outputEnd(kafka, topology.output.topic);
    const spawnedAt = performance.now();
    const second = startWorker(file, brokers);
    children.push(second);
    await waitPast(kafka, topology.output.topic, mark, 120_000);
    const seconds = (performance.now() - spawnedAt) / 1000;
    return { sessionTimeoutMs: topology.consumer.sessionTimeoutMs, delivery: topology.delivery, seconds };
  } finally {
    await Promise.all(children.map((c) => stopped(c, 'SIGTERM')));
    rmSync(dir, { recursive: true, force: true });
  }
}
