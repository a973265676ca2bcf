import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addLease, liveLeases, removeLease, withFileLock } from '../../../src/kafka/local/leases.js';

/** The pid of a process that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('withFileLock', () => {
  it('runs holders one at a time', async () => {
    const lock = join(mkdtempSync(join(tmpdir(), 'lock-')), 'start.lock');
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = withFileLock(lock, 10_000, async () => {
      events.push('first in');
      await gate;
      events.push('first out');
    });
    const second = withFileLock(lock, 10_000, async () => {
      events.push('second in');
    });
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all([first, second]);
    expect(events).toEqual(['first in', 'first out', 'second in']);
  });

  it('takes over a lock left by a dead process', async () => {
    const lock = join(mkdtempSync(join(tmpdir(), 'lock-')), 'start.lock');
    writeFileSync(lock, String(deadPid()));
    expect(await withFileLock(lock, 1_000, async () => 'got it')).toBe('got it');
  });
});

describe('leases', () => {
  it('counts live holders and drops leases of dead processes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leases-'));
    addLease(dir, 'mine');
    writeFileSync(join(dir, 'crashed'), String(deadPid()));
    expect(liveLeases(dir)).toEqual(['mine']);
    expect(readdirSync(dir)).toEqual(['mine']);
    removeLease(dir, 'mine');
    expect(liveLeases(dir)).toEqual([]);
  });
});
