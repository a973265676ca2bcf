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

export interface OnDemandLeaseOptions<T> {
  /** The start/stop lock file of the service. */
  lockPath: string;
  leasesDir: string;
  /** How long to wait for the lock and the start together. */
  acquireTimeoutMs: number;
  /** How long to wait for the lock and the stop together. */
  releaseTimeoutMs: number;
  /** Starts the service (or finds it running); called under the lock. */
  start: () => Promise<T>;
  /** Stops the service if it was started on demand; called under the lock once no lease is left. */
  stopIfOnDemand: () => Promise<void>;
}

/**
 * A lease on a local service started on demand (the broker, the registry): each holder
 * takes one under the service's lock, and the release of the last lease stops a service
 * started on demand. `release` is idempotent.
 */
export async function acquireOnDemand<T>(options: OnDemandLeaseOptions<T>): Promise<{ value: T; release: () => Promise<void> }> {
  const leaseId = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const value = await withFileLock(options.lockPath, options.acquireTimeoutMs, async () => {
    const started = await options.start();
    addLease(options.leasesDir, leaseId);
    return started;
  });
  let released = false;
  return {
    value,
    release: async () => {
      if (released) return;
      released = true;
      await withFileLock(options.lockPath, options.releaseTimeoutMs, async () => {
        removeLease(options.leasesDir, leaseId);
        if (liveLeases(options.leasesDir).length > 0) return;
        await options.stopIfOnDemand();
      });
    },
  };
}
