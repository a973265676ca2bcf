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
import { judge, outcomeOf, type QualityOutcome, type Verdict } from '../quality/gate.js';
import type { QualityCheckName } from '../quality/checks.js';
import type { QualitySpec } from '../quality/quality-options.js';
import { extractAnnotation } from '../teacher/prompts.js';
import type { GenerationResult, TextGenerator } from '../teacher/types.js';
import type { TaskOutcome } from './items.js';

/** What the gate counts, for the run summary and the logs. */
export interface QualityCounts {
  /** Annotations checked (each counted once, however many attempts). */
  checked: number;
  /** Annotations whose kept attempt passed every check. */
  passed: number;
  /** Regenerations made. */
  regenerations: number;
  /** Kept annotations that failed, by check. */
  failedByCheck: Partial<Record<QualityCheckName, number>>;
  /** Annotations dropped (onFailure: drop) or samples dead-lettered (onFailure: dead-letter). */
  dropped: number;
  deadLettered: number;
}

export function emptyQualityCounts(): QualityCounts {
  return { checked: 0, passed: 0, regenerations: 0, failedByCheck: {}, dropped: 0, deadLettered: 0 };
}

export interface QualityGateOptions {
  spec: QualitySpec;
  /** The engines by engine key, for regenerations. */
  generators: ReadonlyMap<string, TextGenerator>;
  counts?: QualityCounts;
}

interface Attempt {
  result: GenerationResult;
  verdict: Verdict;
}

const failures = (a: Attempt): number => a.verdict.results.filter((r) => !r.passed).length;

async function gateOne(outcome: Extract<TaskOutcome, { ok: true }>, options: QualityGateOptions): Promise<TaskOutcome> {
  const { spec, generators } = options;
  const counts = options.counts ?? emptyQualityCounts();
  const { task } = outcome;
  const { teacher, job } = task;
  const assess = (result: GenerationResult): Attempt => ({
    result,
    verdict: judge(spec, teacher.annotation, extractAnnotation(teacher.annotation, result.text, teacher.promptStyle), result.finishReason, job.sample),
  });
  let best = assess(outcome.result);
  let attempts = 1;
  const generator = generators.get(task.engineKey);
  while (!best.verdict.passed && attempts < spec.attempts && generator) {
    const seed = (teacher.generation.seed ?? 0) + attempts;
    const options = { ...teacher.generation, temperature: spec.regenerateTemperature, seed };
    let result: GenerationResult | undefined;
    try {
      [result] = await generator.generate([{ prompt: task.prompt, options }]);
    } catch {
      break;
    }
    attempts++;
    counts.regenerations++;
    if (!result) break;
    const next = assess(result);
    if (next.verdict.passed || failures(next) < failures(best)) best = next;
  }
  const quality: QualityOutcome = outcomeOf(best.verdict, attempts);
  counts.checked++;
  if (quality.passed) counts.passed++;
  for (const check of quality.failedChecks) counts.failedByCheck[check] = (counts.failedByCheck[check] ?? 0) + 1;
  if (!quality.passed && spec.onFailure === 'dead-letter') {
    counts.deadLettered++;
    const reasons = best.verdict.results.filter((r) => !r.passed).map((r) => (r.detail ? `${r.check} (${r.detail})` : r.check));
    const error = new TeacherlmError('QUALITY_FAILED', `${teacher.annotation} of sample '${job.sample.id}' failed the quality gate after ${attempts} attempts: ${reasons.join(', ')}`);
    return { task, ok: false, error, attempts: outcome.attempts };
  }
  const dropped = !quality.passed && spec.onFailure === 'drop';
  if (dropped) counts.dropped++;
  return { ...outcome, result: best.result, quality, dropped };
}

/**
 * @example
 * outcomes$.pipe(qualityGate({ spec: topology.quality, generators }), gather({ modelIds }))
 */
export function qualityGate(options: QualityGateOptions): OperatorFunction<TaskOutcome, TaskOutcome> {
  return mergeMap((outcome) => (outcome.ok ? from(gateOne(outcome, options)) : of(outcome)));
}
