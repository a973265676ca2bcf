/**
 * Does an annotation assert an option other than the gold answer? The teacher is told
 * the gold answer, so a chain of thought ending "The answer is (B)" under gold `(A)`
 * teaches the wrong "why". Assertions are read from the phrasings teachers use:
 *
 * - a label: "the answer is (B)", "answer: B", "(B) is correct", "option (B) is right";
 * - an option's text: "the answer is False" or "(False)", "the sentence is false/incorrect" (True/False
 *   style options, as in CREAK);
 * - a bare verdict opening the text: "False. ..." (True/False options);
 * - negations: "(A) is incorrect", "the answer is not (A)", "the statement is not true".
 *
 * Reported speech does not assert: "a common mistake is to think the answer is (A)". An
 * option the question does not have, "(C)" under (A) and (B), is another option than the gold.
 */
import { goldLabel, questionOptions, type QuestionOption } from './question-options.js';

export interface Assertion {
  /** The option asserted (or denied), by label. */
  label: string;
  /** True for "(A) is incorrect", "the answer is not (A)". */
  negated: boolean;
  /** The words that made it, for the record and for debugging a verdict. */
  evidence: string;
}

export interface ContradictionFinding {
  assertions: Assertion[];
  /** The first assertion at odds with the gold label: another option asserted, or the gold one denied. */
  contradicting: Assertion | undefined;
}

/** Words shortly before an assertion that make it someone else's belief, not the text's. */
const REPORTED = /\b(think|thinks|thinking|thought|believ\w*|assum\w*|choos\w*|chose|chosen|select\w*|pick\w*|claim\w*|say|says|saying|mistak\w*|wrongly|incorrectly|might|may|would|could|if|guess\w*|conclud\w* that)\b/;

const TRUE_WORDS = new Set(['true', 'correct', 'right', 'yes', 'accurate']);
const FALSE_WORDS = new Set(['false', 'incorrect', 'wrong', 'no', 'inaccurate', 'untrue']);

/** The label whose option text is a true-like (or false-like) word, when the question has one. */
function truthLabel(options: readonly QuestionOption[], truthy: boolean): string | undefined {
  const words = truthy ? TRUE_WORDS : FALSE_WORDS;
  return options.find((o) => words.has(o.text.toLowerCase()))?.label;
}

function labelOfText(options: readonly QuestionOption[], text: string): string | undefined {
  const t = text.toLowerCase().replace(/[.,;:!?"']+$/, '').trim();
  return options.find((o) => o.text.toLowerCase() === t)?.label;
}

// "answer is (b)", "answer is: b", "answer: (b)", "correct option is b", "answer would be (b)" (guarded as reported).
const ANSWER_LABEL = /\b(?:answer|option|choice)\s*(?:is|:|=)\s*(not\s+)?(?:option\s+)?\(?([a-z])\)(?![a-z])|\b(?:answer|option|choice)\s*(?:is|:|=)\s*(not\s+)?(?:option\s+)?([a-z])(?=[\s.,;:!?)]|$)/g;
// "(b) is correct", "(a) is not true", "option (a) is wrong"
const LABEL_VERDICT = /(?:option\s+)?\(([a-z])\)\s*(?:is|was)\s+(not\s+)?(?:the\s+)?(correct|right|true|answer|incorrect|wrong|false|untrue)\b/g;
// "answer is false", "the answer is true", "the answer is (True)" (an option's text in a label's parentheses)
const ANSWER_TRUTH = /\banswer\s*(?:is|:)\s*(not\s+)?["(]?(true|false|correct|incorrect|yes|no)\b/g;
// A bare verdict opening the text: "False.", "True. The sentence is indeed...", "\"False\"".
const LEADING_VERDICT = /^[\s"'*]*(true|false|correct|incorrect)\b/g;
// "the sentence is false", "this statement is not true", "the claim is incorrect"
const CLAIM_TRUTH = /\b(?:sentence|statement|claim)\s+(?:is|was)\s+(not\s+)?(?:entirely\s+|completely\s+|actually\s+)?(true|false|correct|incorrect|wrong|right|accurate|inaccurate|untrue)\b/g;

function reported(lower: string, at: number): boolean {
  const before = lower.slice(Math.max(0, at - 40), at);
  return REPORTED.test(before);
}

/** Every assertion in `text` about the options of `question`, in text order. */
export function findAssertions(text: string, question: string): Assertion[] {
  const options = questionOptions(question);
  const labels = new Set(options.map((o) => o.label));
  const lower = text.toLowerCase();
  const found: { at: number; assertion: Assertion }[] = [];
  // A bare letter counts only as one of the question's labels ("the answer is a liquid" is
  // no answer); a letter in parentheses is an option label even when the question has no
  // such option, so "the answer is (C)" under options (A) and (B) asserts a wrong option.
  const add = (at: number, label: string | undefined, negated: boolean, evidence: string, parenthesized = false): void => {
    if (label === undefined || (labels.size > 0 && !labels.has(label) && !parenthesized)) return;
    if (reported(lower, at)) return;
    found.push({ at, assertion: { label, negated, evidence: evidence.trim() } });
  };
  for (const m of lower.matchAll(ANSWER_LABEL)) {
    const label = (m[2] ?? m[4])!.toUpperCase();
    add(m.index, label, Boolean(m[1] ?? m[3]), m[0], m[2] !== undefined);
  }
  for (const m of lower.matchAll(LABEL_VERDICT)) {
    const verdictFalse = FALSE_WORDS.has(m[3]!) || m[3] === 'untrue';
    add(m.index, m[1]!.toUpperCase(), Boolean(m[2]) !== verdictFalse, m[0], true);
  }
  for (const m of lower.matchAll(ANSWER_TRUTH)) {
    const byText = labelOfText(options, m[2]!);
    const label = byText ?? truthLabel(options, TRUE_WORDS.has(m[2]!));
    add(m.index, label, Boolean(m[1]), m[0]);
  }
  for (const m of lower.matchAll(LEADING_VERDICT)) add(m.index, truthLabel(options, TRUE_WORDS.has(m[1]!)), false, m[0]);
  for (const m of lower.matchAll(CLAIM_TRUTH)) {
    const truthy = TRUE_WORDS.has(m[2]!);
    add(m.index, truthLabel(options, truthy), Boolean(m[1]), m[0]);
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.assertion);
}

/** The assertions of `text`, and the first that contradicts the gold `answer`. */
export function findContradiction(text: string, question: string, answer: string): ContradictionFinding {
  const gold = goldLabel(answer);
  const assertions = findAssertions(text, question);
  const contradicting =
    gold === undefined ? undefined : assertions.find((a) => (a.negated ? a.label === gold : a.label !== gold));
  return { assertions, contradicting };
}
