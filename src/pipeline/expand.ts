/**
 * `expand`: one decoded sample into one generation task per teacher, each with the
 * prompt that teacher sees (built by the engine's `buildPrompt`) and its token count
 * for token-budgeted batching.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { asTeacherlmError } from '../errors.js';
import type { RawSample } from '../records/types.js';
import type { DecodedSample, GenerationTask, SampleJob } from './items.js';
import type { TeacherSpec } from './topology.js';

/** Everything expand needs to know about one teacher. */
export interface TeacherBinding {
  teacher: TeacherSpec;
  engineKey: string;
  /** The prompt this teacher sees for a sample (raw or chat style). */
  promptFor(sample: RawSample): string;
  countTokens(prompt: string): number;
}

/**
 * @example
 * decoded$.pipe(expand(bindings))
 * // one sample, three teachers -> three GenerationTasks sharing one SampleJob
 */
export function expand(bindings: TeacherBinding[]): OperatorFunction<DecodedSample, GenerationTask> {
  // A plain loop rather than mergeMap over an array: no inner subscription per sample.
  return (source) =>
    new Observable<GenerationTask>((subscriber) =>
      source.subscribe({
        next: ({ record, sample }) => {
          const job: SampleJob = { record, sample, expected: bindings.length, outcomes: [] };
          for (const binding of bindings) {
            let prompt: string;
            let promptTokens: number;
            // A throw here would escape the subscriber as an uncaught exception: error the stream instead.
            try {
              prompt = binding.promptFor(sample);
              promptTokens = binding.countTokens(prompt);
            } catch (err) {
              const what = `cannot build the ${binding.teacher.annotation} prompt of sample '${sample.id}'`;
              subscriber.error(asTeacherlmError(err, 'GENERATION_FAILED', `${what}: ${(err as Error).message}`));
              return;
            }
            // The metrics' and the tracing's slots are made here, so setting them later adds no property (no new shape, no allocation per task).
            subscriber.next({ job, teacher: binding.teacher, engineKey: binding.engineKey, prompt, promptTokens, queuedAt: undefined, trace: undefined });
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      }),
    );
}
