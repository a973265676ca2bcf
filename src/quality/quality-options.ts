/**
 * The topology's `quality:` section, validated like the rest of the topology
 * (`quality.checks.minWords.cot: expected a non-negative integer, got -1`):
 *
 * ```yaml
 * quality:
 *   checks:
 *     minWords: 8                  # or per kind: { fundamentals: 8, cot: 12, mistakes: 6 }
 *     maxRepeatedNgramShare: 0.2   # share of repeated 4-grams
 *     truncated: true              # cut at the token limit in mid-sentence
 *     minNovelWords: 3             # content words beyond the question's own
 *     contradiction: true          # asserts an option other than the gold answer
 *   attempts: 3                    # generations per annotation, the first included
 *   regenerateTemperature: 0.7     # sampling for the regenerations (each gets another seed)
 *   onFailure: keep                # keep (checks recorded) | drop (null) | dead-letter
 * ```
 */
import { expectedError } from '../options.js';
import { ANNOTATION_KINDS, type AnnotationKind } from '../teacher/types.js';
import { DEFAULT_REPETITION_NGRAM, type QualityChecks } from './checks.js';

export const QUALITY_FAILURE_ACTIONS = ['keep', 'drop', 'dead-letter'] as const;
export type QualityFailureAction = (typeof QUALITY_FAILURE_ACTIONS)[number];

export interface QualitySpec {
  checks: QualityChecks;
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
    maxRepeatedNgramShare: 0.2,
    repetitionNgram: DEFAULT_REPETITION_NGRAM,
    truncated: true,
    minNovelWords: 3,
    contradiction: true,
  },
  attempts: 3,
  regenerateTemperature: 0.7,
  onFailure: 'keep',
};

type Obj = Record<string, unknown>;

function fail(field: string, expected: string, got: unknown): never {
  throw expectedError('INVALID_TOPOLOGY', field, expected, got);
}

function object(value: unknown, field: string, known: readonly string[]): Obj {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) fail(field, 'a mapping', value);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(`${field}.${key}`, `no such field (known: ${known.join(', ')})`, (value as Obj)[key]);
  }
  return value as Obj;
}

function int(value: unknown, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(field, min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`, value);
  }
  return value;
}

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

function minWords(value: unknown, field: string): Partial<Record<AnnotationKind, number>> {
  const fallback = DEFAULT_QUALITY.checks.minWords!;
  if (value === undefined) return { ...fallback };
  if (typeof value === 'number') return Object.fromEntries(ANNOTATION_KINDS.map((k) => [k, int(value, field, 0, 0)]));
  const perKind = object(value, field, ANNOTATION_KINDS);
  return Object.fromEntries(ANNOTATION_KINDS.map((k) => [k, int(perKind[k], `${field}.${k}`, fallback[k]!, 0)]));
}

/** `quality:` of a topology, or undefined when the topology has none (no gate). */
export function parseQuality(value: unknown, field = 'quality'): QualitySpec | undefined {
  if (value === undefined || value === null) return undefined;
  const q = object(value, field, ['checks', 'attempts', 'regenerateTemperature', 'onFailure']);
  const c = object(q.checks, `${field}.checks`, ['minWords', 'maxRepeatedNgramShare', 'repetitionNgram', 'truncated', 'minNovelWords', 'contradiction']);
  const d = DEFAULT_QUALITY;
  const temperature = q.regenerateTemperature;
  if (temperature !== undefined && (typeof temperature !== 'number' || !(temperature > 0 && temperature <= 5))) {
    fail(`${field}.regenerateTemperature`, 'a number above 0 and at most 5', temperature);
  }
  const onFailure = q.onFailure ?? d.onFailure;
  if (typeof onFailure !== 'string' || !(QUALITY_FAILURE_ACTIONS as readonly string[]).includes(onFailure)) {
    fail(`${field}.onFailure`, `one of ${QUALITY_FAILURE_ACTIONS.join(', ')}`, onFailure);
  }
  return {
    checks: {
      minWords: minWords(c.minWords, `${field}.checks.minWords`),
      maxRepeatedNgramShare: share(c.maxRepeatedNgramShare, `${field}.checks.maxRepeatedNgramShare`, d.checks.maxRepeatedNgramShare),
      repetitionNgram: int(c.repetitionNgram, `${field}.checks.repetitionNgram`, DEFAULT_REPETITION_NGRAM, 1),
      truncated: flag(c.truncated, `${field}.checks.truncated`, true),
      minNovelWords: int(c.minNovelWords, `${field}.checks.minNovelWords`, d.checks.minNovelWords!, 0),
      contradiction: flag(c.contradiction, `${field}.checks.contradiction`, true),
    },
    attempts: int(q.attempts, `${field}.attempts`, d.attempts, 1),
    regenerateTemperature: (temperature as number | undefined) ?? d.regenerateTemperature,
    onFailure: onFailure as QualityFailureAction,
  };
}
