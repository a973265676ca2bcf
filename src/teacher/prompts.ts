/**
 * TeacherLM prompts, built exactly as the authors' reference code builds them
 * (`enhance/data_prepare.py`): the teacher sees the question and its gold answer and
 * explains the known answer after a trigger phrase.
 */
import type { AnnotationKind, PromptStyle, RawSample } from './types.js';
import type { ChatTemplate } from './chat-template.js';
import { TeacherlmError } from '../errors.js';
import { rejectOption } from '../options.js';

/** The phrase that ends each prompt; the annotation is what the teacher writes after it. */
export const TRIGGERS: Readonly<Record<AnnotationKind, string>> = Object.freeze({
  fundamentals: 'The fundamental of this question is:',
  cot: "Let's think step by step.",
  mistakes: 'The common mistakes are:',
});

/**
 * The reference clean-up: ONE pass of Python's `str.replace("  ", " ")` (non-overlapping,
 * left to right, so four spaces become two, not one), then trailing spaces stripped.
 * JavaScript's `replaceAll` with a string pattern has the same semantics.
 */
export function cleanWhitespace(text: string): string {
  const once = text.includes('  ') ? text.replaceAll('  ', ' ') : text;
  // A loop, not / +$/: the regex tries every space of the prompt as a match start.
  let end = once.length;
  while (end > 0 && once.charCodeAt(end - 1) === 32) end--;
  return end === once.length ? once : once.slice(0, end);
}

/**
 * The shared stem `Q: {question} A: The answer is {answer}.` (before clean-up).
 * A non-empty `context` (e.g. a passage for reading comprehension) goes before the
 * question inside the `Q:` part; TeacherLM's CREAK-style samples have none.
 */
export function questionStem(sample: Pick<RawSample, 'question' | 'answer' | 'context'>): string {
  const question = sample.context ? `${sample.context} ${sample.question}` : sample.question;
  return 'Q: ' + question + ' A: The answer is ' + sample.answer + '.';
}

/** The raw TeacherLM prompt for one annotation kind, exactly as the reference builds it. */
export function buildRawPrompt(sample: Pick<RawSample, 'question' | 'answer' | 'context'>, kind: AnnotationKind): string {
  const trigger = TRIGGERS[kind];
  if (trigger === undefined) rejectOption('kind', `one of ${Object.keys(TRIGGERS).join(', ')}`, kind);
  return cleanWhitespace(questionStem(sample) + ' ' + trigger);
}

/**
 * Task instructions for a chat teacher (a general instruct model, not trained on
 * TeacherLM's prompts): a system turn, and a user turn wrapping the reference prompt at
 * `{prompt}`. The raw style never takes them, so it stays byte-identical to the reference.
 */
export interface PromptInstructions {
  system?: string;
  /** Must contain `{prompt}`, replaced by the reference prompt. */
  user?: string;
}

export const PROMPT_PLACEHOLDER = '{prompt}';

/**
 * The text the teacher model sees for one sample and kind.
 * - `raw`: the TeacherLM prompt itself, for TeacherLM-native (completion) models.
 * - `chat`: the TeacherLM prompt as the single user turn of the model's own chat
 *   template, with the generation prompt appended, for instruction-tuned stand-ins.
 *
 * @example
 * buildPrompt({ id: '1', task: 'CREAK', question: 'Is it? (A) True (B) False', answer: '(B)' }, 'cot')
 * // => "Q: Is it? (A) True (B) False A: The answer is (B). Let's think step by step."
 */
export function buildPrompt(
  sample: Pick<RawSample, 'question' | 'answer' | 'context'>,
  kind: AnnotationKind,
  style: PromptStyle = 'raw',
  template?: ChatTemplate,
  instructions?: PromptInstructions,
): string {
  const raw = buildRawPrompt(sample, kind);
  if (style === 'raw') {
    if (instructions) rejectOption('instructions', "the 'chat' prompt style (the raw style is the reference prompt, byte for byte)", 'raw');
    return raw;
  }
  if (style !== 'chat') rejectOption('promptStyle', 'one of raw, chat', style);
  if (!template) {
    throw new TeacherlmError('INVALID_OPTIONS', "promptStyle: 'chat' needs the model's chat template", {
      hint: "the model's tokenizer_config.json has no chat_template; use --prompt-style raw",
    });
  }
  const user = instructions?.user === undefined ? raw : instructions.user.replaceAll(PROMPT_PLACEHOLDER, raw);
  return template.render(user, instructions?.system);
}

/**
 * The annotation in a completion generated after a prompt of this kind: the text after
 * the trigger phrase.
 * - `raw`: the prompt ends with the trigger, so the model's continuation is the
 *   annotation, trimmed.
 * - `chat`: the trigger ends the user turn and the reply is the annotation. Instruction-
 *   tuned models often restate the question and the trigger first ("A: The answer is (B).
 *   The common mistakes are: ..."), so when the reply contains the trigger phrase
 *   (case-insensitive) the annotation is what follows its first occurrence.
 */
export function extractAnnotation(kind: AnnotationKind, completion: string, style: PromptStyle = 'raw'): string {
  const text = completion.trim();
  if (style !== 'chat') return text;
  const trigger = TRIGGERS[kind];
  const at = text.toLowerCase().indexOf(trigger.toLowerCase());
  return at < 0 ? text : text.slice(at + trigger.length).trim();
}
