/**
 * `generate`: runs each batch on the engine (`TextGenerator.generate`) and emits one
 * {@link TaskOutcome} per task, under the engine calls' one failure policy
 * (`retryBisect`: retriable errors retried with the topology's backoff, then bisection,
 * so only a task that fails alone is dead-lettered).
 * The worker slot taken by `batch` is held through retries and bisection and given back
 * when the batch is done, so retries never add load beyond one batch per worker.
 */
import { type OperatorFunction, type SchedulerLike, finalize, mergeMap } from 'rxjs';
import { traceBatch } from '../telemetry/batch-span.js';
import { retryBisect } from '../teacher/retry-bisect.js';
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

/**
 * @example
 * tasks$.pipe(batch({ ...policy, slots }), generate({ generator: engine, retry: topology.retry, slots }))
 * // [t1, t2, t3] with t2 poisoning the batch -> t1 ok, t2 failed (after bisection), t3 ok
 */
export function generate(options: GenerateOptions): OperatorFunction<GenerationTask[], TaskOutcome> {
  const { generator, retry: policy, slots, scheduler } = options;
  // One span per engine call, linked to each sample's trace (a no-op without telemetry).
  const call = (tasks: readonly GenerationTask[]) =>
    traceBatch('teacherlm generate', () => tasks.map((t) => t.job.record.headers), { 'teacherlm.model': generator.modelId, 'teacherlm.batch.size': tasks.length }, () =>
      generator.generate(tasks.map((t) => ({ prompt: t.prompt, options: t.teacher.generation }))),
    );
  return mergeMap((tasks) => retryBisect(tasks, call, { policy, scheduler }).pipe(finalize(() => slots.release())));
}
