/**
 * `batch`: dynamic batching in the style of Triton's dynamic batcher, gated by the
 * engine's worker slots.
 *
 * Tasks queue in arrival order. A batch is the longest prefix of the queue within
 * `maxBatchSize` tasks and `maxBatchTokens` padded tokens (batch size x longest prompt,
 * as left-padded batches cost; a single over-budget task still goes alone). It is emitted
 * when a worker slot is free AND one of:
 * - it is full (size reached, or the next task would break the token budget);
 * - its oldest task has waited `maxWaitMs`;
 * - the input completed (flush).
 * While no slot is free nothing is emitted and the queue fills, so the next batch is as
 * large as the policy allows. The operator completes when the input completed and the
 * queue is empty.
 *
 * With `perTask` (continuous batching) a slot is a row of the engine's running batches:
 * each task takes one, and tasks go as soon as slots are free, up to `maxBatchSize` per
 * emission and without waiting (the engine itself gathers what arrives between its steps
 * into one prefill), so `maxWaitMs` and `maxBatchTokens` do not apply.
 */
import { Observable, type OperatorFunction, type SchedulerLike, type Subscription, asyncScheduler } from 'rxjs';
import type { WorkerSlots } from './worker-slots.js';

export interface BatchPolicy {
  maxBatchSize: number;
  maxBatchTokens: number;
  maxWaitMs: number;
}

export interface BatchOptions<T> extends BatchPolicy {
  /** Token count of one item (its prompt). */
  tokensOf: (item: T) => number;
  /** Free engine worker slots; each emitted batch takes one (each task, with `perTask`), `generate` gives it back. */
  slots: WorkerSlots;
  /** Continuous batching: one slot per task, emitted without waiting. Default false. */
  perTask?: boolean;
  scheduler?: SchedulerLike;
}

/**
 * @example
 * // 2 tasks per batch, 10 ms wait, one worker:
 * tasks$.pipe(batch({ maxBatchSize: 2, maxBatchTokens: 1e6, maxWaitMs: 10, tokensOf: (t) => t.promptTokens, slots }))
 * // a b c ------- (slot released) ------>  [a,b] ... [c]
 */
export function batch<T>(options: BatchOptions<T>): OperatorFunction<T, T[]> {
  const { maxBatchSize, maxBatchTokens, maxWaitMs, tokensOf, slots } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<T[]>((subscriber) => {
      const queue: { item: T; tokens: number; at: number }[] = [];
      let inputDone = false;
      let timer: Subscription | undefined;
      let timerDue = -1;

      /** How many queued items the next batch takes, and whether it is full. */
      const nextBatch = (): { take: number; full: boolean } => {
        let longest = 0;
        let take = 0;
        for (const entry of queue) {
          if (take === maxBatchSize) return { take, full: true };
          const next = Math.max(longest, entry.tokens);
          if (take > 0 && next * (take + 1) > maxBatchTokens) return { take, full: true };
          longest = next;
          take++;
        }
        return { take, full: take === maxBatchSize };
      };

      const dispatchPerTask = (): void => {
        while (queue.length > 0 && slots.available > 0) {
          const take = Math.min(queue.length, slots.available, maxBatchSize);
          for (let i = 0; i < take; i++) slots.tryAcquire();
          subscriber.next(queue.splice(0, take).map((e) => e.item));
        }
        if (inputDone && queue.length === 0) subscriber.complete();
      };

      const dispatch = (): void => {
        if (options.perTask) return dispatchPerTask();
        while (queue.length > 0 && slots.available > 0) {
          const { take, full } = nextBatch();
          const head = queue[0] as { at: number };
          const expired = scheduler.now() - head.at >= maxWaitMs;
          if (!full && !expired && !inputDone) break;
          slots.tryAcquire();
          subscriber.next(queue.splice(0, take).map((e) => e.item));
        }
        armTimer();
        if (inputDone && queue.length === 0) subscriber.complete();
      };

      const armTimer = (): void => {
        const head = queue[0];
        const due = head === undefined ? -1 : head.at + maxWaitMs;
        if (due === timerDue) return;
        timer?.unsubscribe();
        timer = undefined;
        timerDue = due;
        if (due < 0 || inputDone) return;
        // An expired head waiting for a slot is dispatched by the next release: no timer.
        // With a slot free it still needs one: the clock may have ticked past `due` since
        // dispatch read it, and with the source paused nothing else would wake the queue.
        if (due <= scheduler.now() && slots.available === 0) return;
        timer = scheduler.schedule(() => {
          timer = undefined;
          timerDue = -1;
          dispatch();
        }, Math.max(0, due - scheduler.now()));
      };

      const releases = slots.released$.subscribe(() => dispatch());
      const input = source.subscribe({
        next: (item) => {
          queue.push({ item, tokens: tokensOf(item), at: scheduler.now() });
          dispatch();
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          inputDone = true;
          dispatch();
        },
      });
      return () => {
        input.unsubscribe();
        releases.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
