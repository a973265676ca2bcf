import { type SchedulerLike, Subject, finalize, map, merge, mergeMap, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { batch, type BatchPolicy } from '../../src/pipeline/batch.js';
import { WorkerSlots } from '../../src/pipeline/worker-slots.js';

interface Setup {
  workers?: number;
  /** Virtual ms each batch holds its worker slot. */
  workMs?: number;
  tokens?: Record<string, number>;
}

/**
 * Single-letter items through `batch` and a fake engine: each batch holds a worker slot
 * for `workMs` of virtual time, then comes out as its letters joined ("ab"). `values`
 * maps the expected marble keys to joined batches. Returns the most batches the fake
 * engine had in flight at once, counted by the engine itself, never above the workers.
 */
function expectBatches(input: string, policy: Partial<BatchPolicy>, setup: Setup, expected: string, values: Record<string, string>): number {
  const scheduler = new TestScheduler((actual, wanted) => expect(actual).toEqual(wanted));
  const workers = setup.workers ?? 1;
  let inFlight = 0;
  let peak = 0;
  scheduler.run(({ cold, expectObservable }) => {
    const slots = new WorkerSlots(workers);
    const out = cold<string>(input).pipe(
      batch({
        maxBatchSize: 100,
        maxBatchTokens: 1_000_000,
        maxWaitMs: 0,
        ...policy,
        tokensOf: (item) => setup.tokens?.[item] ?? 1,
        slots,
        scheduler,
      }),
      mergeMap((items) => {
        peak = Math.max(peak, ++inFlight);
        return timer(setup.workMs ?? 0, scheduler).pipe(
          map(() => items.join('')),
          finalize(() => {
            inFlight--;
            slots.release();
          }),
        );
      }),
    );
    expectObservable(out).toBe(expected, values);
  });
  expect(peak).toBeLessThanOrEqual(workers);
  return peak;
}

describe('batch', () => {
  it('emits a batch as soon as it reaches maxBatchSize', () => {
    expectBatches('abcd|', { maxBatchSize: 2, maxWaitMs: 100 }, { workers: 2 }, '-x-y|', { x: 'ab', y: 'cd' });
  });

  it('emits a partial batch when its oldest task waited maxWaitMs', () => {
    expectBatches('a 9ms b 20ms |', { maxBatchSize: 10, maxWaitMs: 5 }, {}, '5ms x 9ms y 15ms |', { x: 'a', y: 'b' });
  });

  it('keeps the padded token count within maxBatchTokens and flushes on completion', () => {
    // a and b: 2 x 3 = 6 tokens; adding c makes 3 x 5 = 15 > 8.
    expectBatches('abc|', { maxBatchSize: 10, maxBatchTokens: 8, maxWaitMs: 100 }, { tokens: { a: 3, b: 3, c: 5 } }, '--x(y|)', {
      x: 'ab',
      y: 'c',
    });
  });

  it('emits nothing while the worker is busy, so the queue fills into one large batch', () => {
    const peak = expectBatches('abcde|', { maxBatchSize: 4, maxWaitMs: 0 }, { workers: 1, workMs: 30 }, '30ms x 29ms (y|)', { x: 'a', y: 'bcde' });
    expect(peak).toBe(1);
  });

  it('keeps one batch in flight per worker', () => {
    const peak = expectBatches('abcde|', { maxBatchSize: 4, maxWaitMs: 0 }, { workers: 2, workMs: 30 }, '30ms x y 28ms (z|)', {
      x: 'a',
      y: 'b',
      z: 'cde',
    });
    expect(peak).toBe(2);
  });

  it('passes errors through', () => {
    const scheduler = new TestScheduler((actual, wanted) => expect(actual).toEqual(wanted));
    scheduler.run(({ cold, expectObservable }) => {
      const slots = new WorkerSlots(1);
      const out = cold('a#').pipe(batch({ maxBatchSize: 5, maxBatchTokens: 100, maxWaitMs: 10, tokensOf: () => 1, slots, scheduler }));
      expectObservable(out).toBe('-#');
    });
  });
});

describe('batch per task (continuous batching)', () => {
  it('gives each task a row, sends tasks as soon as a row is free (no waiting), and refills a row when its task finishes', () => {
    const scheduler = new TestScheduler((actual, wanted) => expect(actual).toEqual(wanted));
    const work: Record<string, number> = { a: 10, b: 30, c: 10, d: 10 };
    const groups: string[] = [];
    let inFlight = 0;
    let peak = 0;
    scheduler.run(({ cold, expectObservable }) => {
      const slots = new WorkerSlots(2);
      const out = cold<string>('(abcd|)').pipe(
        batch({ maxBatchSize: 16, maxBatchTokens: 1, maxWaitMs: 100, tokensOf: () => 5, slots, perTask: true, scheduler }),
        mergeMap((items) => {
          groups.push(items.join(''));
          // Each task holds its own row for its own time, as the engine's rows do.
          return merge(
            ...items.map((item) => {
              peak = Math.max(peak, ++inFlight);
              return timer(work[item]!, scheduler).pipe(
                map(() => item),
                finalize(() => {
                  inFlight--;
                  slots.release();
                }),
              );
            }),
          );
        }),
      );
      // c takes a's row at 10 and d takes c's at 20, while b still holds the other.
      expectObservable(out).toBe('10ms a 9ms c 9ms (bd|)');
    });
    // Each arrival goes at once: nothing waits for a group to fill.
    expect(groups).toEqual(['a', 'b', 'c', 'd']);
    expect(peak).toBe(2);
  });
});

describe('batch on a clock that ticks while it runs', () => {
  it('still emits a head that expires between the dispatch check and arming the timer', () => {
    // A hand-driven scheduler: Node timers may fire a millisecond before Date.now() reaches
    // their due time, and the clock may tick between two reads in one dispatch.
    const tasks: { at: number; work: () => void }[] = [];
    let clock = 0;
    const scripted: number[] = [];
    const scheduler = {
      now: () => scripted.shift() ?? clock,
      schedule(work: () => void, delay = 0) {
        const task = { at: clock + delay, work };
        tasks.push(task);
        return { unsubscribe: () => void tasks.splice(tasks.indexOf(task) >>> 0, 1), closed: false };
      },
    } as unknown as SchedulerLike;
    const runDue = (): void => {
      for (let task = tasks.find((t) => t.at <= clock); task; task = tasks.find((t) => t.at <= clock)) {
        tasks.splice(tasks.indexOf(task), 1);
        task.work();
      }
    };
    const slots = new WorkerSlots(1);
    const input = new Subject<string>();
    const out: string[][] = [];
    input.pipe(batch({ maxBatchSize: 10, maxBatchTokens: 1_000, maxWaitMs: 5, tokensOf: () => 1, slots, scheduler })).subscribe((b) => out.push(b));
    input.next('a'); // at 0, timer due at 5
    clock = 4; // the timer fires early: dispatch reads 4 (not expired), arming reads 5 (expired)
    tasks.forEach((t) => (t.at = Math.min(t.at, clock)));
    scripted.push(4, 5);
    runDue();
    clock = 100;
    runDue();
    expect(out).toEqual([['a']]);
  });
});
