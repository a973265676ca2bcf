/**
 * The quality gate's checks: each has a name, a measured value and a threshold, and
 * passes or fails one annotation. `checkAnnotation` runs the configured ones.
 */
import type { AnnotationKind } from '../teacher/types.js';
import { findContradiction } from './contradiction.js';
import { longestRepeat, repeatedNgramShare } from './repetition.js';
import { novelContentWords, restatesQuestion } from './restatement.js';
import { cutMidSentence } from './truncation.js';
import { wordsOf } from './words.js';

/** The checks read from the text alone. */
export const TEXT_CHECKS = ['too-short', 'repetition', 'truncated', 'restates-question', 'contradiction'] as const;
/** All checks: the text's, then `faithfulness`, which the teacher scores (faithfulness.ts). */
export const QUALITY_CHECKS = [...TEXT_CHECKS, 'faithfulness'] as const;
export type QualityCheckName = (typeof QUALITY_CHECKS)[number];

/** What the gate is given of one annotation. */
export interface AnnotationUnderCheck {
  kind: AnnotationKind;
  text: string;
  finishReason: string;
  question: string;
  answer: string;
}

/** Thresholds; a check left undefined is off. Validated by `qualityOptions`. */
export interface QualityChecks {
  /** Fewer words than this fails `too-short`, per kind. */
  minWords?: Partial<Record<AnnotationKind, number>>;
  /**
   * A verbatim repeat of this many words fails `repetition` (repetition.ts: a run said twice
   * holding a word of the text's own, a run said three times, a sentence said again); a
   * sentence of 3 words or more said three times fails it too.
   */
  repeatWords?: number;
  /** A larger share of repeated word n-grams also fails `repetition` (the measure before `repeatWords`; off unless set). */
  maxRepeatedNgramShare?: number;
  /** n of those n-grams (default 4). */
  repetitionNgram?: number;
  /** Fail `truncated` when cut at the token limit in mid-sentence. */
  truncated?: boolean;
  /** Fewer content words beyond the question's own fails `restates-question`. */
  minNovelWords?: number;
  /** Fail `contradiction` when the text asserts an option other than the gold answer. */
  contradiction?: boolean;
  /**
   * Fail `faithfulness` when, after a chain of thought, the teacher's own log-likelihood of
   * the gold option letter does not beat every other option's (faithfulness.ts). Off unless
   * set: it costs a scoring pass per chain of thought.
   */
  faithfulness?: boolean;
}

export interface CheckResult {
  check: QualityCheckName;
  passed: boolean;
  /** The measured value (words, share, novel words; 1/0 for yes/no checks). */
  value: number;
  /** What the value was held against. */
  threshold: number;
  /** Why, in words, when it failed (e.g. the contradicting phrase). */
  detail?: string;
}

export const DEFAULT_REPETITION_NGRAM = 4;
export const DEFAULT_REPEAT_WORDS = 6;

/** Runs every configured text check on one annotation, in {@link TEXT_CHECKS} order. */
export function checkAnnotation(a: AnnotationUnderCheck, checks: QualityChecks): CheckResult[] {
  const results: CheckResult[] = [];
  const minWords = checks.minWords?.[a.kind];
  if (minWords !== undefined) {
    const words = wordsOf(a.text).length;
    results.push({ check: 'too-short', passed: words >= minWords, value: words, threshold: minWords });
  }
  if (checks.repeatWords !== undefined || checks.maxRepeatedNgramShare !== undefined) results.push(repetition(a, checks));
  if (checks.truncated === true) {
    const cut = cutMidSentence(a.text, a.finishReason);
    results.push({ check: 'truncated', passed: !cut, value: cut ? 1 : 0, threshold: 0 });
  }
  if (checks.minNovelWords !== undefined) {
    const novel = novelContentWords(a.text, a.question, a.answer);
    const restates = restatesQuestion(a.text, a.question, a.answer, checks.minNovelWords);
    results.push({ check: 'restates-question', passed: !restates, value: novel, threshold: checks.minNovelWords });
  }
  if (checks.contradiction === true) {
    const { contradicting } = findContradiction(a.text, a.question, a.answer);
    results.push({
      check: 'contradiction',
      passed: contradicting === undefined,
      value: contradicting === undefined ? 0 : 1,
      threshold: 0,
      ...(contradicting ? { detail: `asserts ${contradicting.negated ? 'not ' : ''}(${contradicting.label}): "${contradicting.evidence}"` } : {}),
    });
  }
  return results;
}

/** `repetition`: by the verbatim repeat (value: its words), and by the n-gram share when that is set. */
function repetition(a: AnnotationUnderCheck, checks: QualityChecks): CheckResult {
  const shareLimit = checks.maxRepeatedNgramShare;
  const share = shareLimit === undefined ? 0 : repeatedNgramShare(a.text, checks.repetitionNgram ?? DEFAULT_REPETITION_NGRAM, a.question);
  const shareFails = shareLimit !== undefined && share > shareLimit;
  if (checks.repeatWords === undefined) return { check: 'repetition', passed: !shareFails, value: share, threshold: shareLimit! };
  const repeat = longestRepeat(a.text, a.question, checks.repeatWords);
  const details = [
    ...(repeat.loops ? [`says "${repeat.run}" ${repeat.times} times`] : []),
    ...(shareFails ? [`repeated ${checks.repetitionNgram ?? DEFAULT_REPETITION_NGRAM}-gram share ${share.toFixed(2)}`] : []),
  ];
  return {
    check: 'repetition',
    passed: details.length === 0,
    value: repeat.words,
    threshold: checks.repeatWords,
    ...(details.length > 0 ? { detail: details.join('; ') } : {}),
  };
}

/** The names of the checks that failed. */
export function failedChecks(results: readonly CheckResult[]): QualityCheckName[] {
  return results.filter((r) => !r.passed).map((r) => r.check);
}
