/** What integration tests use to reach the run's schema registry (test/setup/registry-global-setup.ts). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import { fetchBrokerJars } from '../../src/kafka/local/broker-jars.js';
import { brokerPaths, DEFAULT_KAFKA_VERSION, kafkaCacheDir } from '../../src/kafka/local/paths.js';
import { ensureVenv } from '../../src/python/ensure-venv.js';
import { findJava } from '../../src/registry/local/find-java.js';
import { fetchSerdeJars } from '../../src/registry/local/serde-jars.js';
import { prerequisite } from './prerequisite.js';
import { settle } from './run-cli.js';
import type { AugmentedSample } from '../../src/records/types.js';

export const ROOT = join(import.meta.dirname, '..', '..');

/** True when the run has a registry; else warns (fails under CI) with why, naming what skips. */
export function registryPrerequisite(skips: string): boolean {
  return prerequisite({ name: 'the schema registry', present: inject('schemaRegistryUrl') !== '', install: inject('schemaRegistryMissing'), skips });
}

/** The Confluent-compatible API of the run's registry, e.g. http://127.0.0.1:18080/apis/ccompat/v7. */
export function registryUrl(): string {
  const url = inject('schemaRegistryUrl');
  if (!url) throw new Error('no schema registry provided: integration tests must run in the vitest "integration" project');
  return url;
}

/** The venv of examples/python/consume.py, created on first use in .cache/py/consumer. */
export function consumerPython(): Promise<string> {
  return ensureVenv('consumer', join(ROOT, 'examples', 'python', 'requirements.txt'), { log: (line) => console.error(`[python] ${line}`) });
}

export interface ProcessOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv = {}, options: { timeoutMs?: number; dumpSignal?: NodeJS.Signals } = {}): Promise<ProcessOutput> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return settle(child, () => ({ stdout, stderr }), options.timeoutMs, options.dumpSignal);
}

/** Runs examples/python/consume.py and returns the records it printed. */
export async function pythonConsume(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ records: Record<string, unknown>[]; stderr: string }> {
  const python = await consumerPython();
  // It stops by itself after --idle seconds without a record; a hang fails with its output
  // and its threads' stacks (SIGUSR1: consume.py's faulthandler) instead of the test's timeout.
  const out = await runProcess(python, [join(ROOT, 'examples', 'python', 'consume.py'), ...args], env, { timeoutMs: 90_000, dumpSignal: 'SIGUSR1' });
  if (out.code !== 0) throw new Error(`consume.py exited with ${out.code}: ${out.stderr}`);
  const records = out.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { records, stderr: out.stderr };
}

/** An AugmentedSample as the pipeline writes one. */
export function augmentedSample(id: string): AugmentedSample {
  const annotation = (text: string) => ({ text, modelId: 'test', promptTokens: 3, generatedTokens: 2, finishReason: 'eos', quality: null });
  return {
    id,
    task: 'CREAK',
    question: `Is ${id} real? (A) True (B) False`,
    answer: '(A)',
    context: null,
    metadata: {},
    fundamentals: annotation('f'),
    chainOfThought: annotation('c'),
    commonMistakes: null,
    source: { topic: 'raw', partition: 0, offset: 1 },
    sourceTimestamp: 1,
    augmentedAt: 2,
  };
}

/**
 * Runs examples/jvm/ConsumeAugmented.java (Java's source launcher) on Apicurio's serde and
 * the local broker's own Kafka jars (both resolved by Maven once), and returns the ids it read.
 */
export async function jvmConsume(args: { brokers: string; topic: string; group: string; registryRoot: string; max: number }): Promise<string[]> {
  const log = (line: string) => console.error(`[jvm] ${line}`);
  const serde = fetchSerdeJars(undefined, log);
  const kafkaLibs = await fetchBrokerJars(brokerPaths(9092, DEFAULT_KAFKA_VERSION, kafkaCacheDir()).libsDir, DEFAULT_KAFKA_VERSION, log);
  const { java } = findJava(17, 'the JVM reader');
  // The serde's jars first: its Jackson and SLF4J win over the broker's older copies.
  const classpath = `${join(serde, '*')}:${join(kafkaLibs, '*')}`;
  const out = await runProcess(java, ['-cp', classpath, join(ROOT, 'examples', 'jvm', 'ConsumeAugmented.java'), args.brokers, args.topic, args.group, args.registryRoot, String(args.max)]);
  if (out.code !== 0) throw new Error(`ConsumeAugmented exited with ${out.code}: ${out.stderr.slice(-3000)}`);
  return out.stdout.split('\n').filter(Boolean).map((line) => line.split('\t')[0] as string);
}
