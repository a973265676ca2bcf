/**
 * Training sequences in the format of TeacherLM's reference fine-tuning code: one
 * causal-LM sequence per (sample, kind), the whole teacher text, e.g.
 * `Q: {question} A: The answer is {answer}. Let's think step by step. {cot}`, with the
 * reference's whitespace clean-up applied to the whole sequence. The 2,048-token cap
 * belongs to the trainer (it needs the student's tokenizer).
 */
import { TeacherlmError } from '../errors.js';
import { TRIGGERS, cleanWhitespace, questionStem } from '../teacher/prompts.js';
import { ANNOTATION_KINDS, type AnnotationKind } from '../teacher/types.js';
import type { Annotation, AugmentedSample } from '../records/types.js';

/** One line of a training shard. */
export interface TrainingSequence {
  id: string;
  task: string;
  kind: AnnotationKind;
  text: string;
}

const FIELDS: Readonly<Record<AnnotationKind, 'fundamentals' | 'chainOfThought' | 'commonMistakes'>> = {
  fundamentals: 'fundamentals',
  cot: 'chainOfThought',
  mistakes: 'commonMistakes',
};

/** The sequence of one kind: stem, trigger, annotation, cleaned as the reference cleans. */
export function buildSequence(sample: Pick<AugmentedSample, 'question' | 'answer' | 'context'>, kind: AnnotationKind, annotation: string): string {
  return cleanWhitespace(questionStem(sample) + ' ' + TRIGGERS[kind] + ' ' + annotation);
}

/** The sample's sequences for `kinds`, in that order; a kind the teacher did not write is left out. */
export function sequencesOf(sample: AugmentedSample, kinds: readonly AnnotationKind[]): TrainingSequence[] {
  const out: TrainingSequence[] = [];
  for (const kind of kinds) {
    const annotation: Annotation | null = sample[FIELDS[kind]];
    if (annotation === null) continue;
    out.push({ id: sample.id, task: sample.task, kind, text: buildSequence(sample, kind, annotation.text) });
  }
  return out;
}

/** `--kinds cot,fundamentals,mistakes`: known kinds, no repeats, at least one. */
export function parseKinds(value: string, field = '--kinds'): AnnotationKind[] {
  const kinds = value.split(',').map((k) => k.trim());
  const known = new Set<string>(ANNOTATION_KINDS);
  for (const kind of kinds) {
    if (!known.has(kind)) throw new TeacherlmError('INVALID_OPTIONS', `${field}: unknown kind '${kind}', expected some of ${ANNOTATION_KINDS.join(', ')}`);
  }
  if (new Set(kinds).size !== kinds.length) throw new TeacherlmError('INVALID_OPTIONS', `${field}: a kind is named twice in '${value}'`);
  return kinds as AnnotationKind[];
}
