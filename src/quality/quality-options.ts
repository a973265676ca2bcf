/**
 * The topology's `quality:` section, validated like the rest of the topology
 * (`quality.checks.minWords.cot: expected a non-negative integer, got -1`):
 *
 * ```yaml
 * quality:
 *   checks:
 *     minWords: 8                  # or per kind: { fundamentals: 8, cot: 12, mistakes: 6 }
 *     repeatWords: 6               # a verbatim repeat of this many words (repetition.ts)
 *     maxRepeatedNgramShare: 0.12  # also: share of repeated 4-grams (off unless set)
 *     truncated: true              # cut at the token limit in mid-sentence
 *     minNovelWords: 3             # content words beyond the question's own
 *     contradiction: true          # asserts an option other than the gold answer
 *     faithfulness: false          # the teacher, given the CoT, prefers another option (off by default)
 *   trimTruncated: false           # cut at the token limit: trim to the last complete sentence, then check
 *   attempts: 3                    # generations per annotation, the first included
 *   regenerateTemperature: 0.7     # sampling for the regenerations (each gets another seed)
 *   onFailure: keep                # keep (checks recorded) | drop (null) | dead-letter
 * ```
 */
import { fail, number, object, oneOf } from '../topology-fields.js';
import { ANNOTATION_KINDS, type AnnotationKind } from '../teacher/types.js';
import { DEFAULT_REPEAT_WORDS, DEFAULT_REPETITION_NGRAM, type QualityChecks } from './checks.js';

export const QUALITY_FAILURE_ACTIONS = ['keep', 'drop', 'dead-letter'] as const;
export type QualityFailureAction = (typeof QUALITY_FAILURE_ACTIONS)[number];

export interface QualitySpec {
  checks: QualityChecks;
  /**
   * Trim an annotation cut at the token limit in mid-sentence back to its last complete
   * sentence before checking it (recorded as the repair `trimmed`).
   */
  trimTruncated?: boolean;
  /** Generations per annotation, the first included (1 = never regenerate). */
  attempts: number;
  /** Temperature of the regenerations; each attempt also gets its own seed. */
  regenerateTemperature: number;
  onFailure: QualityFailureAction;
}

/** The gate's settings when a topology turns it on with `quality: {}`. */
export const DEFAULT_QUALITY: QualitySpec = {
  checks: {
    minWords: { fundamentals: 8, cot: 8, mistakes: 8 },
    repeatWords: DEFAULT_REPEAT_WORDS,
    truncated: true,
    minNovelWords: 3,
    contradiction: true,
  },
  attempts: 3,
  regenerateTemperature: 0.7,
  onFailure: 'keep',
};

function share(value: unknown, field: string, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) fail(field, 'a number from 0 to 1', value);
  return value;
}

function flag(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(field, 'true or false', value);
  return value;
}

const count = (value: unknown, field: string, fallback: number, positive = false): number =>
  number(value, field, fallback, { integer: true, ...(positive ? { positive: true } : { min: 0 }) });

function minWords(value: unknown, field: string): Partial<Record<AnnotationKind, number>> {
  const fallback = DEFAULT_QUALITY.checks.minWords!;
  if (value === undefined) return { ...fallback };
  if (typeof value === 'number') return Object.fromEntries(ANNOTATION_KINDS.map((k) => [k, count(value, field, 0)]));
  const perKind = object(value, field, ANNOTATION_KINDS);
  return Object.fromEntries(ANNOTATION_KINDS.map((k) => [k, count(perKind[k], `${field}.${k}`, fallback[k]!)]));
}

/**
 * `quality:` of a topology, or undefined when the topology has none (no gate). An empty
 * `quality:` (YAML null) turns the gate on with {@link DEFAULT_QUALITY}.
 */
export function parseQuality(value: unknown, field = 'quality'): QualitySpec | undefined {
  if (value === undefined) return undefined;
  const q = value === null ? {} : object(value, field, ['checks', 'trimTruncated', 'attempts', 'regenerateTemperature', 'onFailure']);
  const c = q.checks === undefined || q.checks === null ? {} : object(q.checks, `${field}.checks`, ['minWords', 'repeatWords', 'maxRepeatedNgramShare', 'repetitionNgram', 'truncated', 'minNovelWords', 'contradiction', 'faithfulness']);
  const d = DEFAULT_QUALITY;
  const temperature = q.regenerateTemperature;
  if (temperature !== undefined && (typeof temperature !== 'number' || !(temperature > 0 && temperature <= 5))) {
    fail(`${field}.regenerateTemperature`, 'a number above 0 and at most 5', temperature);
  }
  return {
    checks: {
      minWords: minWords(c.minWords, `${field}.checks.minWords`),
      repeatWords: count(c.repeatWords, `${field}.checks.repeatWords`, d.checks.repeatWords!, true),
      ...(c.maxRepeatedNgramShare !== undefined
        ? {
            maxRepeatedNgramShare: share(c.maxRepeatedNgramShare, `${field}.checks.maxRepeatedNgramShare`, undefined),
            repetitionNgram: count(c.repetitionNgram, `${field}.checks.repetitionNgram`, DEFAULT_REPETITION_NGRAM, true),
          }
        : {}),
      truncated: flag(c.truncated, `${field}.checks.truncated`, true),
      minNovelWords: count(c.minNovelWords, `${field}.checks.minNovelWords`, d.checks.minNovelWords!),
      contradiction: flag(c.contradiction, `${field}.checks.contradiction`, true),
      ...(flag(c.faithfulness, `${field}.checks.faithfulness`, false) ? { faithfulness: true } : {}),
    },
    ...(flag(q.trimTruncated, `${field}.trimTruncated`, false) ? { trimTruncated: true } : {}),
    attempts: count(q.attempts, `${field}.attempts`, d.attempts, true),
    regenerateTemperature: (temperature as number | undefined) ?? d.regenerateTemperature,
    onFailure: oneOf(q.onFailure, `${field}.onFailure`, QUALITY_FAILURE_ACTIONS, d.onFailure),
  };
}
