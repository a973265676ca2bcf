/** What integration tests use to reach the run's schema registry (test/setup/registry-global-setup.ts). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import { ensureVenv } from '../../src/python/ensure-venv.js';
import type { AugmentedSample } from '../../src/records/types.js';

export const ROOT = join(import.meta.dirname, '..', '..');

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

export function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProcessOutput> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs examples/python/consume.py and returns the records it printed. */
export async function pythonConsume(args: string[]): Promise<{ records: Record<string, unknown>[]; stderr: string }> {
  const python = await consumerPython();
  const out = await runProcess(python, [join(ROOT, 'examples', 'python', 'consume.py'), ...args]);
  if (out.code !== 0) throw new Error(`consume.py exited with ${out.code}: ${out.stderr}`);
  const records = out.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { records, stderr: out.stderr };
}

/** An AugmentedSample as the pipeline writes one. */
export function augmentedSample(id: string): AugmentedSample {
  const annotation = (text: string) => ({ text, modelId: 'test', promptTokens: 3, generatedTokens: 2, finishReason: 'eos' });
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
