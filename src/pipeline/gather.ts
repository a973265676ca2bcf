/**
 * `gather`: collects the outcomes of a sample's tasks (one per teacher) and emits one
 * {@link Finished} record when the last arrives: an AugmentedSample when every teacher
 * succeeded, otherwise a dead letter naming the first failure (stage `generate`). Tasks
 * of one sample may finish in any order and in different batches.
 */
import { type OperatorFunction, type SchedulerLike, asyncScheduler, filter, map } from 'rxjs';
import type { Annotation, AugmentedSample } from '../records/types.js';
import { extractAnnotation } from '../teacher/prompts.js';
import type { AnnotationKind, TextGenerator } from '../teacher/types.js';
import { deadLetterFor, sourceOf } from './dead-letter.js';
import type { Finished, SampleJob, TaskOutcome } from './items.js';

export const ANNOTATION_FIELDS: Readonly<Record<AnnotationKind, 'fundamentals' | 'chainOfThought' | 'commonMistakes'>> = {
  fundamentals: 'fundamentals',
  cot: 'chainOfThought',
  mistakes: 'commonMistakes',
};

export interface GatherOptions {
  /** Model id per engine key, written into each annotation. */
  modelIds: ReadonlyMap<string, TextGenerator['modelId']>;
  /** Clock for `augmentedAt` and `failedAt` (the pipeline's scheduler). Default asyncScheduler. */
  scheduler?: SchedulerLike;
  /** Told of each outcome as it arrives (the pipeline's tracing: the gate's end), inline rather than as a stage of its own. */
  onOutcome?: (outcome: TaskOutcome) => void;
}

function finish(job: SampleJob, options: GatherOptions, now: number): Finished {
  const failed = job.outcomes.find((o) => !o.ok);
  if (failed && !failed.ok) {
    return deadLetterFor(job.record, { stage: 'generate', error: failed.error, attempts: failed.attempts, sampleId: job.sample.id, now });
  }
  const { sample, record } = job;
  const value: AugmentedSample = {
    id: sample.id,
    task: sample.task,
    question: sample.question,
    answer: sample.answer,
    context: sample.context ?? null,
    metadata: sample.metadata ?? {},
    fundamentals: null,
    chainOfThought: null,
    commonMistakes: null,
    ...sourceOf(record),
    augmentedAt: now,
  };
  for (const outcome of job.outcomes) {
    if (!outcome.ok) continue;
    const { teacher, engineKey } = outcome.task;
    if (outcome.dropped) continue; // the quality gate dropped it: the field stays null
    const annotation: Annotation = {
      text: extractAnnotation(teacher.annotation, outcome.result.text, teacher.promptStyle),
      modelId: options.modelIds.get(engineKey) ?? teacher.model,
      promptTokens: outcome.result.promptTokens,
      generatedTokens: outcome.result.generatedTokens,
      finishReason: outcome.result.finishReason,
      quality: outcome.quality ?? null,
    };
    value[ANNOTATION_FIELDS[teacher.annotation]] = annotation;
  }
  return { kind: 'augmented', record, value };
}

/**
 * @example
 * outcomes$.pipe(gather({ modelIds }))
 * // fundamentals ok, cot ok, mistakes ok       -> { kind: 'augmented', value: AugmentedSample }
 * // fundamentals ok, cot failed, mistakes ok   -> { kind: 'dead-letter', value: { stage: 'generate', ... } }
 */
export function gather(options: GatherOptions): OperatorFunction<TaskOutcome, Finished> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const { onOutcome } = options;
  return (source) =>
    source.pipe(
      filter((outcome) => {
        onOutcome?.(outcome);
        const job = outcome.task.job;
        job.outcomes.push(outcome);
        return job.outcomes.length === job.expected;
      }),
      map((outcome) => finish(outcome.task.job, options, scheduler.now())),
    );
}
