/**
 * `qualityGate`: checks each generated annotation between `generate` and `gather`
 * (src/quality/checks.ts), regenerates a failing one with another seed up to
 * `attempts` generations, then keeps the best attempt (fewest failed checks, earliest
 * on a tie) and acts on the topology's `onFailure`:
 * - `keep`: the annotation stays, its failed checks recorded in `quality`;
 * - `drop`: the annotation becomes null, the sample is still augmented;
 * - `dead-letter`: the sample is dead-lettered with QUALITY_FAILED naming the checks.
 *
 * A regeneration that fails (engine error) ends the regenerations: the attempts made so
 * far stand, so an engine fault never loses a sample the first generation already had.
 */
import { type OperatorFunction, from, mergeMap, of } from 'rxjs';
import { TeacherlmError } from '../errors.js';
import type { ContinuationScorer } from '../teacher/continuation-scorer.js';
import {
  addFaithfulness,
  countOutcome,
  emptyQualityCounts,
  failureReasons,
  isBetter,
  judge,
  outcomeOf,
  regenerationOptions,
  rejectionOf,
  repairedResult,
  type QualityCounts,
  type QualityOutcome,
  type Verdict,
} from '../quality/gate.js';
import { generationForSample } from '../quality/invented-options.js';
import type { QualitySpec } from '../quality/quality-options.js';
import { extractAnnotation } from '../teacher/prompts.js';
import type { GenerationResult, TextGenerator } from '../teacher/types.js';
import type { PipelineMetrics } from '../telemetry/pipeline-metrics.js';
import type { TaskOutcome } from './items.js';

export { emptyQualityCounts, type QualityCounts } from '../quality/gate.js';

export interface QualityGateOptions {
  spec: QualitySpec;
  /** The engines by engine key, for regenerations. */
  generators: ReadonlyMap<string, TextGenerator>;
  /** Continuation scorers by engine key, for `checks.faithfulness`. */
  scorers?: ReadonlyMap<string, ContinuationScorer>;
  counts?: QualityCounts;
  /** Outcomes by check (`teacherlm.quality_gate.outcomes`); default none. */
  metrics?: Pick<PipelineMetrics, 'qualityCheck'>;
}

interface Attempt {
  result: GenerationResult;
  verdict: Verdict;
}

async function gateOne(outcome: Extract<TaskOutcome, { ok: true }>, options: QualityGateOptions): Promise<TaskOutcome> {
  const { spec, generators } = options;
  const counts = options.counts ?? emptyQualityCounts();
  const { task } = outcome;
  const { teacher, job } = task;
  const assess = async (result: GenerationResult): Promise<Attempt> => {
    const text = extractAnnotation(teacher.annotation, result.text, teacher.promptStyle);
    const verdict = judge(spec, teacher.annotation, text, result.finishReason, job.sample);
    await addFaithfulness(spec, options.scorers?.get(task.engineKey), [{ kind: teacher.annotation, text: verdict.text, sample: job.sample, verdict }]);
    return { result: repairedResult(result, text, verdict), verdict };
  };
  let best = await assess(outcome.result);
  let attempts = 1;
  const generator = generators.get(task.engineKey);
  while (!best.verdict.passed && attempts < spec.attempts && generator) {
    const options = regenerationOptions(generationForSample(teacher.generation, teacher.banInventedOptions, job.sample.question), spec, attempts + 1);
    let result: GenerationResult | undefined;
    try {
      [result] = await generator.generate([{ prompt: task.prompt, options }]);
    } catch {
      break;
    }
    attempts++;
    if (!result) break;
    const next = await assess(result);
    if (isBetter(next.verdict, best.verdict)) best = next;
  }
  const quality: QualityOutcome = outcomeOf(best.verdict, attempts);
  // The kept attempt's verdict, one outcome per check it ran.
  for (const r of best.verdict.results) options.metrics?.qualityCheck(r.check, r.passed);
  const rejected = rejectionOf(spec, quality);
  countOutcome(counts, quality, rejected);
  if (rejected === 'deadLettered') {
    const error = new TeacherlmError('QUALITY_FAILED', `${teacher.annotation} of sample '${job.sample.id}' failed the quality gate after ${attempts} attempts: ${failureReasons(best.verdict)}`);
    return { task, ok: false, error, attempts: outcome.attempts };
  }
  const dropped = rejected === 'dropped';
  return { ...outcome, result: best.result, quality, dropped };
}

/**
 * @example
 * outcomes$.pipe(qualityGate({ spec: topology.quality, generators }), gather({ modelIds }))
 */
export function qualityGate(options: QualityGateOptions): OperatorFunction<TaskOutcome, TaskOutcome> {
  return mergeMap((outcome) => (outcome.ok ? from(gateOne(outcome, options)) : of(outcome)));
}
