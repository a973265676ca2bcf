/**
 * `generate`: runs each batch on the engine (`TextGenerator.generate`) and emits one
 * {@link TaskOutcome} per task, under the engine calls' one failure policy
 * (`retryBisect`: retriable errors retried with the topology's backoff, then bisection,
 * so only a task that fails alone is dead-lettered).
 * The worker slot taken by `batch` is held through retries and bisection and given back
 * when the batch is done, so retries never add load beyond one batch per worker.
 * With `perTask` (continuous batching: the engine's `continuousRows`) each task is its own
 * engine call and holds its own slot (a row) until its outcome: rows are given back as
 * they finish, and the batcher fills them at once.
 */
import { type OperatorFunction, type SchedulerLike, finalize, merge, mergeMap } from 'rxjs';
import { generationForSample } from '../quality/invented-options.js';
import { retryBisect } from '../teacher/retry-bisect.js';
import type { GenerateCallOptions, GenerationResult, TextGenerator } from '../teacher/types.js';
import { NOOP_PIPELINE_METRICS, type EngineRef, type PipelineMetrics } from '../telemetry/pipeline-metrics.js';
import type { GenerationTask, TaskOutcome } from './items.js';
import type { SampleTracing } from './sample-tracing.js';
import type { RetrySpec } from './topology.js';
import type { WorkerSlots } from './worker-slots.js';

export interface GenerateOptions {
  generator: TextGenerator;
  retry: RetrySpec;
  /** The slots `batch` acquires from; one is released per finished batch (per task with `perTask`). */
  slots: WorkerSlots;
  /** One engine call and one slot per task (continuous batching). Default false. */
  perTask?: boolean;
  scheduler?: SchedulerLike;
  /** Batch sizes, engine calls, tokens, retries; default: none. */
  metrics?: { sink: PipelineMetrics; engine: EngineRef };
  /** One span per engine call serving traced samples, which also ends their inference stage; the traced tasks' batch start; default: none. */
  tracing?: SampleTracing;
}

/**
 * @example
 * tasks$.pipe(batch({ ...policy, slots }), generate({ generator: engine, retry: topology.retry, slots }))
 * // [t1, t2, t3] with t2 poisoning the batch -> t1 ok, t2 failed (after bisection), t3 ok
 */
export function generate(options: GenerateOptions): OperatorFunction<GenerationTask[], TaskOutcome> {
  const { generator, retry: policy, slots, scheduler } = options;
  const metrics = options.metrics?.sink ?? NOOP_PIPELINE_METRICS;
  const engine = options.metrics?.engine ?? { key: generator.modelId, modelId: generator.modelId, concurrency: generator.concurrency };
  /** Batches whose last call failed, with the code: calling one again is a retry (bisected halves are new arrays). */
  const failedWith = new WeakMap<readonly GenerationTask[], string>();
  /** The engine call, timed for the metrics when they are on. */
  const measured = async (tasks: readonly GenerationTask[], run: () => Promise<GenerationResult[]>): Promise<GenerationResult[]> => {
    const previous = failedWith.get(tasks);
    if (previous !== undefined) metrics.retried(engine, previous);
    metrics.engineStarted(engine);
    const startedAt = performance.now();
    try {
      const results = await run();
      metrics.engineCall(engine, performance.now() - startedAt, results);
      return results;
    } catch (err) {
      metrics.engineFailed(engine, performance.now() - startedAt);
      failedWith.set(tasks, (err as { code?: string }).code ?? 'GENERATION_FAILED');
      throw err;
    }
  };
  const engineCall = (tasks: readonly GenerationTask[], call: GenerateCallOptions) => () =>
    generator.generate(
      tasks.map((t) => ({ prompt: t.prompt, options: generationForSample(t.teacher.generation, t.teacher.banInventedOptions, t.job.sample.question) })),
      call,
    );
  const untraced = (tasks: readonly GenerationTask[], call: GenerateCallOptions) => (metrics.enabled ? measured(tasks, engineCall(tasks, call)) : engineCall(tasks, call)());
  const tracing = options.tracing;
  // One span per engine call that serves a traced sample (sample-tracing.ts).
  const call = !tracing
    ? untraced
    : async (tasks: readonly GenerationTask[], callOptions: GenerateCallOptions) => {
        const span = tracing.batch(tasks, generator);
        if (!span) return untraced(tasks, callOptions);
        try {
          const results = await untraced(tasks, callOptions);
          span.end(results);
          return results;
        } catch (err) {
          span.end(undefined, err);
          throw err;
        }
      };
  return mergeMap((tasks) => {
    metrics.batchStarted(engine, tasks);
    tracing?.batchStarted(tasks);
    if (!options.perTask) return retryBisect(tasks, call, { policy, scheduler }).pipe(finalize(() => slots.release()));
    return merge(...tasks.map((task) => retryBisect([task], call, { policy, scheduler }).pipe(finalize(() => slots.release()))));
  });
}
