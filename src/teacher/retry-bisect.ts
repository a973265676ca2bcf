/**
 * The one failure policy for engine calls, used by the pipeline's `generate` and by file
 * mode's `annotateFile`, so one bad sample never sinks its batch:
 * 1. a retriable error (worker crash, transient engine failure) is retried with
 *    exponential backoff, up to `maxAttempts` calls;
 * 2. when the batch still fails, or fails with a non-retriable error, it is bisected and
 *    each half is run the same way (first half first), down to single items;
 * 3. a single item that still fails becomes a failed outcome; every other item succeeds.
 * Every call after an item's first (a retry, a bisected half) is made `isolated`, so with
 * continuous batching a poisoned prompt cannot fail other calls' prompts again.
 * An error that `isRunWide` names is not about these items (the engine closed, bad
 * options): it errors the whole call instead, as every other batch would fail the same way.
 */
import { type Observable, type SchedulerLike, asyncScheduler, catchError, concat, defer, from, map, mergeMap, retry, throwError, timer } from 'rxjs';
import { TeacherlmError, asTeacherlmError } from '../errors.js';
import type { GenerateCallOptions, GenerationResult } from './types.js';

export interface RetryPolicy {
  /** Attempts of one batch before it is bisected (1 = no retry). */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 5_000, multiplier: 2 });

/** Backoff before retry number `n` (1-based): initial x multiplier^(n-1), capped. */
export function backoffMs(policy: RetryPolicy, n: number): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.multiplier ** (n - 1));
}

/** One item's result, or its final error after retries and bisection, with the engine calls it took part in. */
export type CallOutcome<T> =
  | { task: T; ok: true; result: GenerationResult; attempts: number }
  | { task: T; ok: false; error: TeacherlmError; attempts: number };

export interface RetryBisectOptions {
  policy: RetryPolicy;
  /** Clock of the backoff. Default asyncScheduler. */
  scheduler?: SchedulerLike;
  /** Errors that end the whole call instead of being bisected. Default none. */
  isRunWide?: (error: TeacherlmError) => boolean;
}

/**
 * Runs `items` through `call` (one engine call per batch, results in item order) under the
 * policy above; emits one outcome per item as halves finish.
 *
 * @example
 * retryBisect(tasks, (batch) => engine.generate(batch.map(toRequest)), { policy: DEFAULT_RETRY_POLICY })
 * // [t1, t2, t3] with t2 poisoning the batch -> t1 ok, t2 failed (after bisection), t3 ok
 */
export function retryBisect<T>(
  items: readonly T[],
  call: (batch: readonly T[], options: GenerateCallOptions) => Promise<GenerationResult[]>,
  options: RetryBisectOptions,
): Observable<CallOutcome<T>> {
  const { policy, isRunWide } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const attempts = new Map<T, number>();
  const attemptsOf = (item: T): number => attempts.get(item) ?? 1;

  const run = (batch: readonly T[]): Observable<CallOutcome<T>> =>
    defer(() => {
      let isolated = false;
      for (const item of batch) {
        const n = (attempts.get(item) ?? 0) + 1;
        attempts.set(item, n);
        if (n > 1) isolated = true;
      }
      return from(call(batch, { isolated }));
    }).pipe(
      map((results) => {
        if (results.length !== batch.length) {
          throw new TeacherlmError('GENERATION_FAILED', `the engine returned ${results.length} results for ${batch.length} prompts`);
        }
        return results;
      }),
      retry({
        count: policy.maxAttempts - 1,
        delay: (error: unknown, n: number) => {
          const typed = asTeacherlmError(error, 'GENERATION_FAILED');
          return typed.retriable ? timer(backoffMs(policy, n), scheduler) : throwError(() => typed);
        },
      }),
      mergeMap((results) => results.map((result, i): CallOutcome<T> => ({ task: batch[i] as T, ok: true, result, attempts: attemptsOf(batch[i] as T) }))),
      catchError((error: unknown) => {
        const typed = asTeacherlmError(error, 'GENERATION_FAILED');
        if (isRunWide?.(typed)) return throwError(() => typed);
        if (batch.length === 1) return [{ task: batch[0] as T, ok: false, error: typed, attempts: attemptsOf(batch[0] as T) } satisfies CallOutcome<T>];
        const middle = Math.ceil(batch.length / 2);
        return concat(run(batch.slice(0, middle)), run(batch.slice(middle)));
      }),
    );

  return run(items);
}
