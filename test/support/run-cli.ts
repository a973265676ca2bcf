/**
 * Runs the `teacherlm` CLI from source (TEACHERLM_FROM_SOURCE=1, never a stale build)
 * against the run's broker (KAFKA_BROKERS), with spans written as JSON lines on stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { kafkaBrokers } from './brokers.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'teacherlm.js');

/** `timeoutMs`: SIGKILL the command after it, so a hang fails the test with what it wrote so far. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, options: { timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: {
      ...process.env,
      TEACHERLM_FROM_SOURCE: '1',
      KAFKA_BROKERS: kafkaBrokers().join(','),
      OTEL_TRACES_EXPORTER: 'console',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return settle(child, () => ({ stdout, stderr }), options.timeoutMs);
}

/** Resolves with the exit code and the output once `child` closes, or kills it after `timeoutMs` and says so in stderr. */
/**
 * The child's exit and output; past `timeoutMs` it is killed. `dumpSignal`: sent first, and
 * the kill 2 s later, for a child that writes where it is stuck when it gets it (Python's
 * faulthandler), so a hang fails with its stacks.
 */
export function settle(child: ChildProcess, output: () => { stdout: string; stderr: string }, timeoutMs?: number, dumpSignal?: NodeJS.Signals): Promise<CliResult> {
  let timedOut = false;
  const kill = () => {
    timedOut = true;
    if (dumpSignal === undefined) return child.kill('SIGKILL');
    child.kill(dumpSignal);
    return setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
  };
  const timer = timeoutMs === undefined ? undefined : setTimeout(kill, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const { stdout, stderr } = output();
      resolve({ code, stdout, stderr: timedOut ? `${stderr}\n[killed after ${timeoutMs! / 1000} s without exiting]` : stderr });
    });
  });
}

export interface LoggedSpan {
  span: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  links?: { traceId: string; spanId: string }[];
}

/** The spans a CLI run logged with OTEL_TRACES_EXPORTER=console. */
export function loggedSpans(stderr: string): LoggedSpan[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{"span"'))
    .map((line) => JSON.parse(line) as LoggedSpan);
}
