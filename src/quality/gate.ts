/**
 * The gate's verdict on one annotation: the checks' results, what the record keeps of
 * them (`QualityOutcome`, the Avro `Annotation.quality` field), and the rules shared by the
 * stream's gate (src/pipeline/quality-gate.ts) and `teacherlm annotate`: how a regeneration
 * samples, which attempt is kept, and what is counted.
 */
import { TeacherlmError } from '../errors.js';
import type { ContinuationScorer } from '../teacher/continuation-scorer.js';
import type { AnnotationKind, GenerationOptions } from '../teacher/types.js';
import { checkAnnotation, failedChecks, type CheckResult, type QualityCheckName } from './checks.js';
import { checkFaithfulness } from './faithfulness.js';
import type { QualitySpec } from './quality-options.js';
import { cutMidSentence, trimToLastSentence } from './truncation.js';

/** What the gate may do to a text before it is checked: `trimmed`, cut back to its last complete sentence. */
export type QualityRepair = 'trimmed';

/** What an annotation carries of the gate (schema `QualityOutcome`). */
export interface QualityOutcome {
  passed: boolean;
  /** The checks the kept text failed (empty when it passed). */
  failedChecks: QualityCheckName[];
  /** Generations made for this annotation, the first included. */
  attempts: number;
  /** What the gate did to the kept text before checking it (empty: it is the teacher's as generated). */
  repairs: QualityRepair[];
}

export interface Verdict {
  results: CheckResult[];
  passed: boolean;
  /** The text the checks judged: the annotation, or its repair. */
  text: string;
  repairs: QualityRepair[];
}

/** What the gate counts, for the run summary and the logs. */
export interface QualityCounts {
  /** Annotations checked (each counted once, however many attempts). */
  checked: number;
  /** Annotations whose kept attempt passed every check. */
  passed: number;
  /** Regenerations made. */
  regenerations: number;
  /** Kept annotations the gate repaired, by repair. */
  repaired: Partial<Record<QualityRepair, number>>;
  /** Kept annotations that failed, by check. */
  failedByCheck: Partial<Record<QualityCheckName, number>>;
  /** Annotations dropped (onFailure: drop) or samples dead-lettered (onFailure: dead-letter). */
  dropped: number;
  deadLettered: number;
}

export function emptyQualityCounts(): QualityCounts {
  return { checked: 0, passed: 0, regenerations: 0, repaired: {}, failedByCheck: {}, dropped: 0, deadLettered: 0 };
}

/**
 * Checks one annotation. With `trimTruncated`, a text cut at the token limit in mid-sentence
 * is first trimmed to its last complete sentence and the trimmed text is what every check
 * judges (`truncated` then passes: it no longer ends mid-sentence); a text with no complete
 * sentence is judged as it is.
 */
export function judge(
  spec: QualitySpec,
  kind: AnnotationKind,
  text: string,
  finishReason: string,
  sample: { question: string; answer: string },
): Verdict {
  const trimmed = spec.trimTruncated === true && cutMidSentence(text, finishReason) ? trimToLastSentence(text) : undefined;
  const judged = trimmed ?? text;
  const results = checkAnnotation({ kind, text: judged, finishReason: trimmed === undefined ? finishReason : 'stop', question: sample.question, answer: sample.answer }, spec.checks);
  return { results, passed: results.every((r) => r.passed), text: judged, repairs: trimmed === undefined ? [] : ['trimmed'] };
}

/**
 * The generation with its text cut where the verdict's repair cut the annotation. The
 * annotation is a suffix of the trimmed completion (extractAnnotation), so cutting the same
 * characters off the completion's end gives the repaired annotation when extracted again.
 */
export function repairedResult<R extends { text: string }>(result: R, annotation: string, verdict: Verdict): R {
  if (verdict.repairs.length === 0) return result;
  const completion = result.text.trim();
  return { ...result, text: completion.slice(0, completion.length - (annotation.length - verdict.text.length)) };
}

/** One chain of thought's verdict awaiting the teacher-scored check. */
export interface Scorable {
  kind: AnnotationKind;
  text: string;
  sample: { question: string; answer: string };
  verdict: Verdict;
}

/**
 * Adds `faithfulness` to the verdicts of chains of thought, in one scoring call, when the
 * spec turns it on (other kinds are not scored). A question without labelled options passes.
 */
export async function addFaithfulness(spec: QualitySpec, scorer: ContinuationScorer | undefined, items: readonly Scorable[]): Promise<void> {
  if (spec.checks.faithfulness !== true) return;
  if (!scorer) throw new TeacherlmError('INVALID_OPTIONS', 'quality.checks.faithfulness: needs a teacher of kind onnx to score with');
  const cots = items.filter((i) => i.kind === 'cot');
  if (cots.length === 0) return;
  const results = await checkFaithfulness(scorer, cots.map((c) => ({ question: c.sample.question, answer: c.sample.answer, text: c.text })));
  cots.forEach((c, i) => {
    const r = results[i] ?? { check: 'faithfulness' as const, passed: true, value: 0, threshold: 0 };
    c.verdict.results.push(r);
    c.verdict.passed &&= r.passed;
  });
}

export function outcomeOf(verdict: Verdict, attempts: number): QualityOutcome {
  return { passed: verdict.passed, failedChecks: failedChecks(verdict.results), attempts, repairs: [...verdict.repairs] };
}

/** Generation `attempt` (2 for the first regeneration): sampled at `regenerateTemperature`, with the teacher's seed + attempt - 1. */
export function regenerationOptions(generation: GenerationOptions, spec: QualitySpec, attempt: number): GenerationOptions {
  return { ...generation, temperature: spec.regenerateTemperature, seed: (generation.seed ?? 0) + attempt - 1 };
}

const failures = (v: Verdict): number => v.results.filter((r) => !r.passed).length;

/** Whether a regeneration's verdict replaces the best so far: it passes, or fails fewer checks (earliest wins a tie). */
export function isBetter(next: Verdict, best: Verdict): boolean {
  return next.passed || failures(next) < failures(best);
}

/** What `onFailure` does to an annotation whose kept attempt failed: drop it, dead-letter its sample, or nothing (keep). */
export function rejectionOf(spec: QualitySpec, quality: QualityOutcome): 'dropped' | 'deadLettered' | undefined {
  if (quality.passed || spec.onFailure === 'keep') return undefined;
  return spec.onFailure === 'drop' ? 'dropped' : 'deadLettered';
}

/** Counts one annotation's final outcome; `rejected` tells what `onFailure` did to a failing one. */
export function countOutcome(counts: QualityCounts, quality: QualityOutcome, rejected: 'dropped' | 'deadLettered' | undefined): void {
  counts.checked++;
  counts.regenerations += quality.attempts - 1;
  if (quality.passed) counts.passed++;
  for (const repair of quality.repairs) counts.repaired[repair] = (counts.repaired[repair] ?? 0) + 1;
  for (const check of quality.failedChecks) counts.failedByCheck[check] = (counts.failedByCheck[check] ?? 0) + 1;
  if (rejected) counts[rejected]++;
}

/** The reasons a failed verdict gives, for QUALITY_FAILED messages: `contradiction (asserts (A): "...")`. */
export function failureReasons(verdict: Verdict): string {
  return verdict.results
    .filter((r) => !r.passed)
    .map((r) => (r.detail ? `${r.check} (${r.detail})` : r.check))
    .join(', ');
}
