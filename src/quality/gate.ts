/**
 * The gate's verdict on one annotation: the checks' results, and what the record keeps
 * of them (`QualityOutcome`, the Avro `Annotation.quality` field).
 */
import type { AnnotationKind } from '../teacher/types.js';
import { checkAnnotation, failedChecks, type CheckResult, type QualityCheckName } from './checks.js';
import type { QualitySpec } from './quality-options.js';

/** What an annotation carries of the gate (schema `QualityOutcome`). */
export interface QualityOutcome {
  passed: boolean;
  /** The checks the kept text failed (empty when it passed). */
  failedChecks: QualityCheckName[];
  /** Generations made for this annotation, the first included. */
  attempts: number;
}

export interface Verdict {
  results: CheckResult[];
  passed: boolean;
}

export function judge(
  spec: QualitySpec,
  kind: AnnotationKind,
  text: string,
  finishReason: string,
  sample: { question: string; answer: string },
): Verdict {
  const results = checkAnnotation({ kind, text, finishReason, question: sample.question, answer: sample.answer }, spec.checks);
  return { results, passed: results.every((r) => r.passed) };
}

export function outcomeOf(verdict: Verdict, attempts: number): QualityOutcome {
  return { passed: verdict.passed, failedChecks: failedChecks(verdict.results), attempts };
}
