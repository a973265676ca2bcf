import { describe, expect, it } from 'vitest';
import { isTeacherlmError } from '../../src/errors.js';
import { WorkerSlots } from '../../src/pipeline/worker-slots.js';

describe('WorkerSlots', () => {
  it('hands out its slots, tells each release, and refuses a release it never gave, as a typed INTERNAL error', () => {
    const slots = new WorkerSlots(1);
    let released = 0;
    slots.released$.subscribe(() => released++);
    expect(slots.tryAcquire()).toBe(true);
    expect(slots.tryAcquire()).toBe(false);
    slots.release();
    expect(released).toBe(1);
    let error: unknown;
    try {
      slots.release();
    } catch (err) {
      error = err;
    }
    expect(isTeacherlmError(error, 'INTERNAL')).toBe(true);
    expect(slots.available).toBe(1);
  });
});
