/**
 * `generate`: runs each batch on the engine (`TextGenerator.generate`) and emits one
 * {@link TaskOutcome} per task.
 *
 * Failure handling, so one bad sample never sinks its batch:
 * 1. a retriable error (worker crash, transient engine failure) is retried with
 *    exponential backoff, up to `maxAttempts` calls;
 * 2. when the batch still fails, or fails with a non-retriable error, it is bisected and
 *    each half is run the same way, down to single tasks;
 * 3. a single task that still fails becomes a failed outcome (gather dead-letters its
 *    sample); every other task of the batch succeeds.
 * The worker slot taken by `batch` is held through retries and bisection and given back
 * when the batch is done, so retries never add load beyond one batch per worker.
 */
import {
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  asyncScheduler,
  catchError,
  concat,
  defer,
  finalize,
  from,
  map,
  mergeMap,
  retry,
  throwError,
  timer,
} from 'rxjs';
import { TeacherlmError, asTeacherlmError } from '../errors.js';
import { traceBatch } from '../telemetry/batch-span.js';
import type { TextGenerator } from '../teacher/types.js';
import type { GenerationTask, TaskOutcome } from './items.js';
import type { RetrySpec } from './topology.js';
import type { WorkerSlots } from './worker-slots.js';

export interface GenerateOptions {
  generator: TextGenerator;
  retry: RetrySpec;
  /** The slots `batch` acquires from; one is released per finished batch. */
  slots: WorkerSlots;
  scheduler?: SchedulerLike;
}

/** Backoff before retry number `n` (1-based): initial x multiplier^(n-1), capped. */
export function backoffMs(policy: RetrySpec, n: number): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.multiplier ** (n - 1));
}

/**
 * @example
 * tasks$.pipe(batch({ ...policy, slots }), generate({ generator: engine, retry: topology.retry, slots }))
 * // [t1, t2, t3] with t2 poisoning the batch -> t1 ok, t2 failed (after bisection), t3 ok
 */
export function generate(options: GenerateOptions): OperatorFunction<GenerationTask[], TaskOutcome> {
  const { generator, retry: policy, slots } = options;
  const scheduler = options.scheduler ?? asyncScheduler;

  /** Runs `tasks` with retries, then bisects; emits outcomes as halves finish. */
  const runTasks = (tasks: GenerationTask[], attempts: Map<GenerationTask, number>): Observable<TaskOutcome> =>
    defer(() => {
      for (const task of tasks) attempts.set(task, (attempts.get(task) ?? 0) + 1);
      const call = () => generator.generate(tasks.map((t) => ({ prompt: t.prompt, options: t.teacher.generation })));
      // One span per engine call, linked to each sample's trace (a no-op without telemetry).
      return from(traceBatch('teacherlm generate', () => tasks.map((t) => t.job.record.headers), { 'teacherlm.model': generator.modelId, 'teacherlm.batch.size': tasks.length }, call));
    }).pipe(
      map((results) => {
        if (results.length !== tasks.length) {
          throw new TeacherlmError('GENERATION_FAILED', `the engine returned ${results.length} results for ${tasks.length} prompts`);
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
      mergeMap((results) =>
        results.map((result, i): TaskOutcome => {
          const task = tasks[i] as GenerationTask;
          return { task, ok: true, result, attempts: attempts.get(task) ?? 1 };
        }),
      ),
      catchError((error: unknown) => {
        if (tasks.length === 1) {
          const task = tasks[0] as GenerationTask;
          const typed = asTeacherlmError(error, 'GENERATION_FAILED');
          return [{ task, ok: false, error: typed, attempts: attempts.get(task) ?? 1 } satisfies TaskOutcome];
        }
        const middle = Math.ceil(tasks.length / 2);
        return concat(runTasks(tasks.slice(0, middle), attempts), runTasks(tasks.slice(middle), attempts));
      }),
    );

  return mergeMap((tasks) => runTasks(tasks, new Map()).pipe(finalize(() => slots.release())));
}
