import type { SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { lingerBuffer } from '../../src/pipeline/linger-buffer.js';

const testScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** Counts the timers an operator asks for. */
function countingScheduler(inner: SchedulerLike): { scheduler: SchedulerLike; timers: () => number } {
  let timers = 0;
  const scheduler: SchedulerLike = {
    now: () => inner.now(),
    schedule: (...args: Parameters<SchedulerLike['schedule']>) => {
      timers++;
      return inner.schedule(...args);
    },
  };
  return { scheduler, timers: () => timers };
}

describe('lingerBuffer', () => {
  it('emits full buffers at once and a partial one lingerMs after its first value', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const out = cold('ab 5ms c 20ms d e 30ms |').pipe(lingerBuffer(10, 2));
      // c waits from frame 7 to 17; d arrives at 28 and e fills it at 29.
      expectObservable(out).toBe('-x 15ms y 11ms z 30ms |', { x: ['a', 'b'], y: ['c'], z: ['d', 'e'] });
    });
  });

  it('flushes what waits on completion and drops it on error', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('ab|').pipe(lingerBuffer(10, 5))).toBe('--(x|)', { x: ['a', 'b'] });
      expectObservable(cold('ab#').pipe(lingerBuffer(10, 5))).toBe('--#');
    });
  });

  it('sets a timer only while values wait, unlike a periodic bufferTime', () => {
    const scheduler = testScheduler();
    const counted = countingScheduler(scheduler);
    scheduler.run(({ cold, expectObservable }) => {
      const out = cold('a 999ms b').pipe(lingerBuffer(5, 10, counted.scheduler));
      expectObservable(out).toBe('5ms x 999ms y', { x: ['a'], y: ['b'] });
    });
    // One timer per partial buffer; bufferTime(5) would have ticked 400 times here.
    expect(counted.timers()).toBe(2);
  });
});
