/**
 * Coordination between processes sharing one local broker (several test runs in one
 * checkout): a start lock so only one process starts it, and leases so an on-demand
 * broker is stopped by the last user to leave, not by the first.
 */
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TeacherlmError } from '../../errors.js';
import { isAlive } from './processes.js';

/** A lock older than this is taken to be left by a crashed holder. */
const STALE_LOCK_MS = 5 * 60_000;

export async function withFileLock<T>(lockPath: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lockPath), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      closeSync(openSync(lockPath, 'wx'));
      writeFileSync(lockPath, String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (lockIsStale(lockPath)) {
        rmSync(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new TeacherlmError('BROKER_START_FAILED', `timed out waiting for ${lockPath}`, {
          hint: 'another process is starting the local broker; if none is, delete that file',
        });
      }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

function lockIsStale(lockPath: string): boolean {
  try {
    const pid = Number(readFileSync(lockPath, 'utf8'));
    if (pid > 0 && !isAlive(pid)) return true;
    return Date.now() - statSync(lockPath).mtimeMs > STALE_LOCK_MS;
  } catch {
    return false; // vanished or just created and still empty: retry
  }
}

export function addLease(leasesDir: string, id: string): void {
  mkdirSync(leasesDir, { recursive: true });
  writeFileSync(join(leasesDir, id), String(process.pid));
}

export function removeLease(leasesDir: string, id: string): void {
  rmSync(join(leasesDir, id), { force: true });
}

/** Leases whose holder process is still alive; dead ones are removed. */
export function liveLeases(leasesDir: string): string[] {
  let ids: string[];
  try {
    ids = readdirSync(leasesDir);
  } catch {
    return [];
  }
  return ids.filter((id) => {
    const pid = Number(readFileSync(join(leasesDir, id), 'utf8'));
    if (pid > 0 && isAlive(pid)) return true;
    rmSync(join(leasesDir, id), { force: true });
    return false;
  });
}

export function clearLeases(leasesDir: string): void {
  rmSync(leasesDir, { recursive: true, force: true });
}
