/** Small process helpers for a detached broker: liveness, identity, termination. */
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Alive and not a zombie. EPERM means it exists but belongs to someone else. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

/** The command line of a process, or undefined where /proc is unavailable or it is gone. */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** True when pid runs kafka.Kafka with this very server.properties (guards against pid reuse). */
export function isBrokerProcess(pid: number, serverProperties: string): boolean {
  if (!isAlive(pid)) return false;
  const cmd = commandLine(pid);
  return cmd === undefined ? true : cmd.includes('kafka.Kafka') && cmd.includes(serverProperties);
}

/** Live brokers started with this server.properties, found through /proc (a lost pid file). */
export function findBrokerProcesses(serverProperties: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => pid !== process.pid && isBrokerProcess(pid, serverProperties) && commandLine(pid) !== undefined);
}

/** SIGTERM, wait up to graceMs for a clean exit, then SIGKILL. Resolves when it is gone. */
export async function terminate(pid: number, graceMs: number): Promise<'exited' | 'killed'> {
  if (!signal(pid, 'SIGTERM')) return 'exited';
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'exited';
    await sleep(100);
  }
  signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < killDeadline) await sleep(50);
  return 'killed';
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
