/**
 * `npm run test:chaos`: real `teacherlm run` processes on a real local broker of their own
 * (port 19092, started and stopped through the project's local-broker code; never the
 * shared one), the echo teacher, and SIGKILLs. Each scenario ends by reading the augmented
 * and dead-letter topics with kcat `-X isolation.level=read_committed` and counting every
 * sample id. Prints the table scenario x mode -> sent, missing, duplicates, seconds to
 * the end after the last fault. `-- --samples N --kills K` sizes it.
 *
 * Scenarios so far: kill (SIGKILL the worker K times at random moments, restarting it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { startLocalBroker, stopLocalBroker } from '../../src/kafka/local/broker.js';

const PORT = 19092;
const BROKER = `127.0.0.1:${PORT}`;
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'teacherlm.js');
const { values } = parseArgs({ options: { samples: { type: 'string', default: '3000' }, kills: { type: 'string', default: '5' } } });
const SAMPLES = Number(values.samples);
const KILLS = Number(values.kills);
const env = { ...process.env, KAFKA_BROKERS: BROKER, TEACHERLM_FROM_SOURCE: '1', OTEL_SDK_DISABLED: 'true' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function topologyFile(name: string, delivery: string): string {
  const doc = {
    name,
    input: { topic: `${name}-raw`, partitions: 6, format: 'auto' },
    output: { topic: `${name}-aug`, partitions: 3 },
    deadLetter: { topic: `${name}-dl` },
    consumer: { group: `${name}-g` },
    delivery,
    teachers: [{ annotation: 'cot', kind: 'echo' }],
    batching: { maxBatchSize: 64, maxWaitMs: 5, queueLimit: 256 },
  };
  const path = join(mkdtempSync(join(tmpdir(), 'chaos-')), `${name}.yaml`);
  writeFileSync(path, stringify(doc));
  return path;
}

function cli(args: string[]): Promise<number | null> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: 'ignore' });
  return new Promise((resolve) => child.on('close', resolve));
}

function count(name: string): { missing: number; duplicates: number } {
  const keys: string[] = [];
  for (const topic of [`${name}-aug`, `${name}-dl`]) {
    const r = spawnSync('kcat', ['-b', BROKER, '-C', '-t', topic, '-X', 'isolation.level=read_committed', '-e', '-q', '-f', '%k\\n'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    keys.push(...r.stdout.split('\n').filter(Boolean));
  }
  const seen = new Set(keys);
  let missing = 0;
  for (let i = 0; i < SAMPLES; i++) if (!seen.has(`q${i}`)) missing++;
  return { missing, duplicates: keys.length - seen.size };
}

async function killScenario(mode: string): Promise<Record<string, unknown>> {
  const name = `chaos-kill-${mode}-${Date.now().toString(36)}`;
  const topology = topologyFile(name, mode);
  const file = join(mkdtempSync(join(tmpdir(), 'chaos-')), 'samples.jsonl');
  writeFileSync(file, Array.from({ length: SAMPLES }, (_, i) => JSON.stringify({ id: `q${i}`, task: 't', question: `Q${i} ${'x'.repeat(200)}`, answer: 'A' })).join('\n'));
  await cli(['produce', file, '--topology', topology]);
  for (let k = 0; k < KILLS; k++) {
    const child = spawn(process.execPath, [BIN, 'run', '--topology', topology], { env, stdio: 'ignore' });
    await sleep(3_000 + Math.random() * 4_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
  }
  const started = Date.now();
  await cli(['run', '--topology', topology, '--until-idle', '3000']);
  return { scenario: 'kill', mode, sent: SAMPLES, ...count(name), secondsToEnd: Math.round((Date.now() - started) / 100) / 10 };
}

const broker = await startLocalBroker({ port: PORT, fresh: true, log: (line) => console.error(line) });
try {
  const rows = [];
  for (const mode of ['exactly-once', 'at-least-once']) rows.push(await killScenario(mode));
  console.table(rows);
  const failed = rows.some((r) => r.missing !== 0 || (r.mode === 'exactly-once' && r.duplicates !== 0));
  process.exitCode = failed ? 1 : 0;
} finally {
  if (broker.startedHere) await stopLocalBroker({ port: PORT });
}
