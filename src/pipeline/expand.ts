/**
 * `expand`: one decoded sample into one generation task per teacher, each with the
 * prompt that teacher sees (built by the engine's `buildPrompt`) and its token count
 * for token-budgeted batching.
 */
import { type OperatorFunction, mergeMap } from 'rxjs';
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
  return mergeMap(({ record, sample }) => {
    const job: SampleJob = { record, sample, expected: bindings.length, outcomes: [] };
    return bindings.map((binding) => {
      const prompt = binding.promptFor(sample);
      return { job, teacher: binding.teacher, engineKey: binding.engineKey, prompt, promptTokens: binding.countTokens(prompt) };
    });
  });
}
